// SPDX-License-Identifier: GPL-2.0
/* kernbtf: programs that need the kernel's own BTF at load time, which no
 * shipped (minimized) BTF can provide: libbpf resolves attach targets,
 * typed __ksym variables and kfunc calls against the running kernel's
 * vmlinux BTF, while btf_custom_path only feeds CO-RE relocations.
 * One program per reason: fentry, fexit, tp_btf, lsm, iter (attach BTF
 * IDs), a kprobe reading a typed per-CPU __ksym, a kprobe calling kfuncs,
 * and a plain kprobe that needs none of it (the control). */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	u64 session_id;
	u64 seq_num;
} __pai;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __pai;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

/* A typed ksym: libbpf looks the variable up by name in vmlinux BTF. */
extern const int bpf_prog_active __ksym;

/* kfuncs: libbpf resolves their BTF IDs in vmlinux BTF. */
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

static __always_inline void bump(u32 idx)
{
	u64 *p = bpf_map_lookup_elem(&counts, &idx);

	if (p)
		__sync_fetch_and_add(p, 1);
}

SEC("fentry/vfs_read")
int BPF_PROG(read_entry, struct file *file)
{
	bump(0);
	return 0;
}

SEC("fexit/vfs_read")
int BPF_PROG(read_exit, struct file *file, char *buf, size_t count, long long *pos, long ret)
{
	if (ret > 0)
		bump(1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *p)
{
	if (BPF_CORE_READ(p, pid) > 0)
		bump(2);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(open_lsm, struct file *file)
{
	bump(3);
	return 0;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task)
		bump(4);
	return 0;
}

SEC("kprobe/vfs_write")
int write_ksym(struct pt_regs *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	if (*active > 1)
		bump(5);
	return 0;
}

SEC("kprobe/vfs_fsync_range")
int fsync_kfunc(struct pt_regs *ctx)
{
	bpf_rcu_read_lock();
	bump(6);
	bpf_rcu_read_unlock();
	return 0;
}

SEC("kprobe/vfs_open")
int open_plain(struct pt_regs *ctx)
{
	bump(7);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
