// SPDX-License-Identifier: GPL-2.0
/* taskstate: scheduler-switch tracing (runqslower-like). Covers struct
 * flavors: task_struct.__state (5.14+) vs task_struct___old.state (older
 * kernels), each guarded by <field_exists> so the unmatched read is poisoned
 * but dead; a field that exists in no kernel (poisoned on every kernel);
 * direct (non-probe) loads in a tp_btf program that libbpf patches as
 * LDX offsets; and <byte_sz> of either flavor. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* A flavor of task_struct with a field no kernel has. */
struct task_struct___btftool {
	int btftool_no_such_field;
} __pai;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, u64);
} stats SEC(".maps");

static __always_inline long get_task_state(void *task)
{
	struct task_struct___old *t_old = task;
	struct task_struct *t = task;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	if (bpf_core_field_exists(t_old->state))
		return BPF_CORE_READ(t_old, state);
	return -1;
}

static __always_inline void bump(u32 idx, u64 v)
{
	u64 *p = bpf_map_lookup_elem(&stats, &idx);

	if (p)
		__sync_fetch_and_add(p, v);
}

/* raw tracepoint: probe reads through BPF_CORE_READ */
SEC("raw_tp/sched_switch")
int handle_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx->args[1];
	struct task_struct *next = (struct task_struct *)ctx->args[2];
	struct task_struct___btftool *pb = (void *)prev;
	u32 pid;
	u64 ts;

	if (get_task_state(prev) == 0 /* TASK_RUNNING */) {
		pid = BPF_CORE_READ(prev, pid);
		ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	}
	if (bpf_core_field_exists(pb->btftool_no_such_field))
		bump(3, BPF_CORE_READ(pb, btftool_no_such_field));

	pid = BPF_CORE_READ(next, pid);
	bpf_map_delete_elem(&start, &pid);
	if (bpf_core_field_exists(prev->__state))
		bump(0, bpf_core_field_size(prev->__state));
	else
		bump(0, bpf_core_field_size(((struct task_struct___old *)prev)->state));
	return 0;
}

/* BTF-typed tracepoint: direct loads, relocated as LDX offsets */
SEC("tp_btf/sched_switch")
int BPF_PROG(handle_switch_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	struct task_struct___old *prev_old = (void *)prev;
	long state = -1;

	if (bpf_core_field_exists(prev->__state))
		state = prev->__state;
	else if (bpf_core_field_exists(prev_old->state))
		state = prev_old->state;
	if (state == 0)
		bump(1, 1);
	if (next->flags & 0x00200000 /* PF_KTHREAD */)
		bump(2, next->pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
