// SPDX-License-Identifier: GPL-2.0
/* features: load-time kernel feature detection, published through an array
 * map the first time uname() is called. Covers the type-based relocations:
 * <type_exists>, <type_size>, <type_matches> (clang >= 15), <type_id_local>
 * and <type_id_target>, on structs, a typedef of an anonymous struct (kuid_t,
 * atomic_t) and an enum; types that exist only on 6.x (struct folio), only on
 * 4.x (struct timespec), in no kernel (struct btftool_no_such_type), and
 * <type_matches> outcomes that differ by kernel: task_struct___state matches
 * only on 5.14+ (__state), the enum only where skb_drop_reason exists.
 * Beware: libbpf's type matching also compares integer type *names* after
 * skipping typedefs, and clang names them "unsigned short"/"long long" where
 * pahole (gcc) says "short unsigned int"/"long long int", so sock___u16proto
 * and timespec64 find a candidate but never match (only int, unsigned int,
 * char, unsigned char are spelled alike). */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct folio {			/* 5.16+ */
	unsigned long flags;
} __pai;

struct timespec {		/* removed in 5.6 */
	long tv_sec;
	long tv_nsec;
} __pai;

struct timespec64 {
	s64 tv_sec;
	long tv_nsec;
} __pai;

struct btftool_no_such_type {
	int x;
} __pai;

struct sock___u16proto {	/* sk_protocol is a u16 since 5.6 */
	u16 sk_protocol;
} __pai;

struct task_struct___ids {	/* matches everywhere */
	pid_t pid;
	pid_t tgid;
} __pai;

struct task_struct___state {	/* matches on 5.14+ only */
	unsigned int __state;
	struct mm_struct *mm;
} __pai;

enum skb_drop_reason___feat {
	SKB_DROP_REASON_NOT_SPECIFIED___feat,
};

enum feature {
	F_FOLIO, F_TIMESPEC, F_NONE, F_KUID, F_DROP_REASON,
	SZ_TASK, SZ_FOLIO, SZ_KUID, SZ_ATOMIC, SZ_NONE,
	M_SOCK_U16, M_TASK_IDS, M_TASK_STATE, M_TIMESPEC64, M_NONE, M_KUID,
	M_DROP_REASON,
	ID_LOCAL_TASK, ID_LOCAL_KUID,
	ID_KERN_TIMESPEC64, ID_KERN_KUID, ID_KERN_NONE,
	NR_FEATURES,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_FEATURES);
	__type(key, u32);
	__type(value, u64);
} features SEC(".maps");

static __always_inline void set(u32 f, u64 v)
{
	bpf_map_update_elem(&features, &f, &v, BPF_ANY);
}

SEC("tracepoint/syscalls/sys_enter_newuname")
int probe_features(void *ctx)
{
	set(F_FOLIO, bpf_core_type_exists(struct folio));
	set(F_TIMESPEC, bpf_core_type_exists(struct timespec));
	set(F_NONE, bpf_core_type_exists(struct btftool_no_such_type));
	set(F_KUID, bpf_core_type_exists(kuid_t));
	set(F_DROP_REASON, bpf_core_type_exists(enum skb_drop_reason___feat));

	set(SZ_TASK, bpf_core_type_size(struct task_struct));
	set(SZ_FOLIO, bpf_core_type_size(struct folio));
	set(SZ_KUID, bpf_core_type_size(kuid_t));
	set(SZ_ATOMIC, bpf_core_type_size(atomic_t));
	set(SZ_NONE, bpf_core_type_size(struct btftool_no_such_type));

	set(M_SOCK_U16, bpf_core_type_matches(struct sock___u16proto));
	set(M_TASK_IDS, bpf_core_type_matches(struct task_struct___ids));
	set(M_TASK_STATE, bpf_core_type_matches(struct task_struct___state));
	set(M_TIMESPEC64, bpf_core_type_matches(struct timespec64));
	set(M_NONE, bpf_core_type_matches(struct btftool_no_such_type));
	set(M_KUID, bpf_core_type_matches(kuid_t));
	set(M_DROP_REASON, bpf_core_type_matches(enum skb_drop_reason___feat));

	set(ID_LOCAL_TASK, bpf_core_type_id_local(struct task_struct));
	set(ID_LOCAL_KUID, bpf_core_type_id_local(kuid_t));

	set(ID_KERN_TIMESPEC64, bpf_core_type_id_kernel(struct timespec64));
	set(ID_KERN_KUID, bpf_core_type_id_kernel(kuid_t));
	set(ID_KERN_NONE, bpf_core_type_id_kernel(struct btftool_no_such_type));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
