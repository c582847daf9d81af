// SPDX-License-Identifier: GPL-2.0
/* multi: process lifecycle accounting with several programs in two ELF
 * sections: two programs share SEC("tracepoint/sched/sched_process_fork"),
 * one lives in SEC("tracepoint/sched/sched_process_exit"). All three carry
 * CO-RE relocations (direct tracepoint-context loads, including char-array
 * elements, and task_struct probe reads), so .BTF.ext has per-section
 * relocation groups with several programs in one group. The fork event's
 * parent_comm is a char[16] up to 6.12 but a __data_loc string in newer
 * kernels (6.18 here): both variants are guarded by <field_exists>. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32);
	__type(value, u64);
} born SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

static __always_inline void count(u32 idx)
{
	u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* newer kernels: comm strings are __data_loc (offset | length << 16) */
struct trace_event_raw_sched_process_fork___dataloc {
	u32 __data_loc_parent_comm;
} __pai;

SEC("tracepoint/sched/sched_process_fork")
int fork_count(struct trace_event_raw_sched_process_fork *ctx)
{
	struct trace_event_raw_sched_process_fork___dataloc *dl = (void *)ctx;
	char c[2] = {};

	if (bpf_core_field_exists(ctx->parent_comm)) {
		c[0] = ctx->parent_comm[0];
		c[1] = ctx->parent_comm[1];
	} else if (bpf_core_field_exists(dl->__data_loc_parent_comm)) {
		u32 loc = dl->__data_loc_parent_comm;

		bpf_probe_read_kernel(c, sizeof(c), (void *)ctx + (loc & 0xffff));
	}
	/* kernel threads are forked by kthreadd */
	if (c[0] == 'k' && c[1] == 't')
		count(0);
	else
		count(1);
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int fork_birth(struct trace_event_raw_sched_process_fork *ctx)
{
	u32 child = ctx->child_pid;
	u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&born, &child, &ts, BPF_ANY);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int exit_reap(struct trace_event_raw_sched_process_template *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	u32 pid = ctx->pid;

	/* only count whole-process exits */
	if (BPF_CORE_READ(task, tgid) != pid)
		return 0;
	if (BPF_CORE_READ(task, exit_code) || BPF_CORE_READ(task, signal, nr_threads) > 1)
		count(2);
	bpf_map_delete_elem(&born, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
