// SPDX-License-Identifier: GPL-2.0
/* sockets: tcpconnect-like entry/return kprobe pair. Covers fields inside
 * anonymous unions and anonymous structs declared that way locally too
 * (sock_common.skc_daddr/skc_dport/skc_num: access strings with anonymous
 * member indices), a nested struct member (sk->__sk_common.skc_family) and a
 * direct load whose size libbpf must adjust (local unsigned int vs the
 * kernel's unsigned short skc_family: LDX mem_sz 4 -> 2). */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* wider than the kernel's field on purpose */
struct sock_common___wide {
	unsigned int skc_family;
} __pai;

struct event {
	u32 saddr;
	u32 daddr;
	u16 dport;
	u16 sport;
	u32 family;
	u32 pid;
	int ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct sock *);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(connect_entry, struct sock *sk)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sockets, &tid, &sk, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(connect_return, int ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct sock **skp = bpf_map_lookup_elem(&sockets, &tid);
	struct event *e;
	struct sock *sk;

	if (!skp)
		return 0;
	sk = *skp;
	bpf_map_delete_elem(&sockets, &tid);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->ret = ret;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	e->daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	e->dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* BTF-typed tracepoint: direct loads from the BTF-typed argument */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_change, const struct sock *sk, int oldstate, int newstate)
{
	const struct sock_common___wide *skc = (const void *)sk;
	u32 tid = (u32)bpf_get_current_pid_tgid();

	if (skc->skc_family != 2 /* AF_INET */)
		return 0;
	if (sk->__sk_common.skc_state == 7 /* TCP_CLOSE */)
		bpf_map_delete_elem(&sockets, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
