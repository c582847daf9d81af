// SPDX-License-Identifier: GPL-2.0
/* guards: CO-RE reads of a field no kernel has (task_struct___btftool
 * .btftool_no_such_field, poisoned everywhere), reached or not depending on
 * control flow, for pkg/reach's verdicts: unguarded (the verifier reaches
 * the poisoned instruction: the program fails), guarded by
 * bpf_core_field_exists (dead code: loads), guarded through a variable
 * combined with another condition, and a kprobe/vfs_fsync variant pair
 * where the fentry one is the failing one (the loader must disable it). */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct task_struct___btftool {
	int btftool_no_such_field;
} __pai;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, u64);
} out SEC(".maps");

static __always_inline void put(u32 idx, u64 v)
{
	u64 *p = bpf_map_lookup_elem(&out, &idx);

	if (p)
		*p = v;
}

SEC("kprobe/vfs_read")
int unguarded(struct pt_regs *ctx)
{
	struct task_struct___btftool *t = (void *)bpf_get_current_task();

	put(0, BPF_CORE_READ(t, btftool_no_such_field));
	return 0;
}

SEC("kprobe/vfs_write")
int guarded(struct pt_regs *ctx)
{
	struct task_struct___btftool *t = (void *)bpf_get_current_task();

	if (bpf_core_field_exists(t->btftool_no_such_field))
		put(1, BPF_CORE_READ(t, btftool_no_such_field));
	return 0;
}

SEC("kprobe/vfs_open")
int guarded_flag(struct pt_regs *ctx)
{
	struct task_struct___btftool *t = (void *)bpf_get_current_task();
	int have = bpf_core_field_exists(t->btftool_no_such_field);
	u64 pid = bpf_get_current_pid_tgid();

	if (have && (pid & 1))
		put(2, BPF_CORE_READ(t, btftool_no_such_field));
	else if (have)
		put(2, 1);
	return 0;
}

SEC("kprobe/vfs_fsync_range")
int fsync_kprobe(struct pt_regs *ctx)
{
	put(3, 1);
	return 0;
}

SEC("fentry/vfs_fsync_range")
int BPF_PROG(fsync_fentry, struct file *file)
{
	struct task_struct___btftool *t = (void *)bpf_get_current_task();

	put(3, BPF_CORE_READ(t, btftool_no_such_field));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
