// SPDX-License-Identifier: GPL-2.0
/* btfdump: dumps each newly forked task with bpf_snprintf_btf(), which needs
 * the task_struct type ID *in the running kernel*: <type_id_target> (and
 * <type_id_local> for comparison) on a big, heavily referenced struct. On the
 * 4.x BTFs in the test set task_struct is duplicated (2 copies, 476 in the
 * non-deduplicated 4.18 RHEL BTF), so libbpf reports a "relocation decision
 * ambiguity" there and the relocation fails: the object only relocates on
 * 6.x BTF. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct dump {
	u32 local_id;
	u32 kernel_id;
	long len;
	char buf[2048];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct dump);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} dumps SEC(".maps");

SEC("tp_btf/sched_process_fork")
int BPF_PROG(new_task, struct task_struct *parent, struct task_struct *p)
{
	struct btf_ptr ptr = {};
	u32 zero = 0;
	struct dump *d = bpf_map_lookup_elem(&scratch, &zero);

	if (!d)
		return 0;
	ptr.ptr = p;
	ptr.type_id = bpf_core_type_id_kernel(struct task_struct);
	d->local_id = bpf_core_type_id_local(struct task_struct);
	d->kernel_id = ptr.type_id;
	d->len = bpf_snprintf_btf(d->buf, sizeof(d->buf), &ptr, sizeof(ptr),
				  BTF_F_COMPACT | BTF_F_NONAME);
	bpf_ringbuf_output(&dumps, d, sizeof(*d), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
