// SPDX-License-Identifier: GPL-2.0
/* bitfields: TCP connect tracing that reads bitfields. Covers the whole
 * bitfield relocation family: <byte_off>, <byte_sz>, <signed>, <lshift_u64>,
 * <rshift_u64> (via BPF_CORE_READ_BITFIELD_PROBED and BPF_CORE_READ_BITFIELD).
 * sock.sk_protocol is an 8-bit bitfield on 4.x and a plain u16 on 6.x, the
 * sk_kern_sock/sk_no_check_tx and task_struct.in_execve bitfields move
 * between kernels; the kprobe arguments come from pt_regs via CO-RE. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#ifndef bpf_core_field_signed
/* libbpf >= 1.2 has it; Debian 12's libbpf 1.1 does not */
#define bpf_core_field_signed(field...) \
	__builtin_preserve_field_info(___bpf_field_ref(field), BPF_FIELD_SIGNED)
#endif

struct conn {
	u64 protocol;
	u64 kern_sock;
	u64 no_check_tx;
	u64 in_execve;
	u32 pid_is_signed;
	u32 pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct conn);
} last SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_v4_connect_entry, struct sock *sk)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	u32 zero = 0;
	struct conn *c = bpf_map_lookup_elem(&last, &zero);

	if (!c)
		return 0;
	c->protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	c->kern_sock = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock);
	c->in_execve = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	c->pid_is_signed = bpf_core_field_signed(task->pid);
	c->pid = BPF_CORE_READ(task, pid);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_change, const struct sock *sk, int oldstate, int newstate)
{
	u32 zero = 0;
	struct conn *c = bpf_map_lookup_elem(&last, &zero);

	if (!c)
		return 0;
	/* direct reads from a BTF pointer */
	c->no_check_tx = BPF_CORE_READ_BITFIELD(sk, sk_no_check_tx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
