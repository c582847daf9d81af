// SPDX-License-Identifier: GPL-2.0
/* execsnoop: execve() tracing. Covers field <byte_off> on nested pointers
 * (task->real_parent->tgid, task->mm->arg_start where 6.x keeps arg_start in
 * an anonymous struct but the local mm_struct is flat), array elements
 * (comm[0], ctx->args[1] read directly from the tracepoint context), a
 * relocation rooted at a typedef (atomic_t::counter) and <byte_sz>. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct event {
	u32 pid;
	u32 ppid;
	u32 uid;
	int mm_users;
	u64 arg_start;
	u64 arg_len;
	u64 filename_ptr;
	u64 argv_ptr;
	char first;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int trace_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task;
	struct mm_struct *mm;
	atomic_t *users;
	struct event *e;
	u32 comm_sz;

	if (ctx->id != 59 /* __NR_execve on x86_64 */)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	task = (struct task_struct *)bpf_get_current_task();
	e->pid = BPF_CORE_READ(task, tgid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = BPF_CORE_READ(task, real_cred, uid.val);
	e->filename_ptr = ctx->args[0];
	e->argv_ptr = ctx->args[1];

	mm = BPF_CORE_READ(task, mm);
	e->arg_start = BPF_CORE_READ(mm, arg_start);
	e->arg_len = BPF_CORE_READ(mm, arg_end) - e->arg_start;
	users = &mm->mm_users;
	e->mm_users = BPF_CORE_READ(users, counter);

	e->first = BPF_CORE_READ(task, comm[0]);
	comm_sz = bpf_core_field_size(task->comm);
	if (comm_sz > sizeof(e->comm))
		comm_sz = sizeof(e->comm);
	bpf_probe_read_kernel_str(&e->comm, comm_sz, &task->comm);

	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
