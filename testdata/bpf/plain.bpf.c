// SPDX-License-Identifier: GPL-2.0
/* plain: a tracing program with NO CO-RE relocations at all. It counts
 * openat() calls per process. The tracepoint context is read through a local
 * struct WITHOUT preserve_access_index, so clang emits plain loads and no
 * .BTF.ext CO-RE records (the minimized BTF for this object is empty). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sys_enter_openat_args {
	unsigned long long common;	/* struct trace_entry */
	int __syscall_nr;
	unsigned long long dfd;
	unsigned long long filename;
	unsigned long long flags;
	unsigned long long mode;
};

struct key {
	__u32 tgid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct key);
	__type(value, __u64);
} opens SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int count_openat(struct sys_enter_openat_args *ctx)
{
	struct key k = {};
	__u64 one = 1, *cnt;

	if (ctx->flags & 01000000)	/* skip O_PATH-ish noise: keep it simple */
		return 0;
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&k.comm, sizeof(k.comm));
	cnt = bpf_map_lookup_elem(&opens, &k);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&opens, &k, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
