// SPDX-License-Identifier: GPL-2.0
/* modules: programs that read types of kernel modules, not of vmlinux.
 * Local types are partial definitions checked against the module BTF of
 * Debian's 6.1 and 6.12 amd64 kernels (testdata/kernels/debian/12/x86_64,
 * RELEASE.modules.tar.xz there):
 *
 * - module-only types: nf_conntrack's nf_conn_acct (an array of structs)
 *   and nf_conntrack_net, type_exists on nf_conntrack_helper and
 *   type_matches on nf_conn_counter;
 * - module types whose access path crosses a type that vmlinux defines
 *   too (vmlinux wins for a relocation rooted at it): nft_nat.type is an
 *   enum nf_nat_manip_type bitfield (vmlinux has only an empty forward
 *   enum of that name, so enumval relocations on it find no value),
 *   rpcrdma_rep.rr_stream is a struct xdr_stream, bonding's
 *   port.actor_system a struct mac_addr; each also with a relocation
 *   rooted at the shared type;
 * - file_system_type, defined by vmlinux and (on 6.1) again by
 *   nf_conntrack: vmlinux's is used;
 * - a module type no kernel has (poisoned).
 *
 * The kprobe sections name module functions: the programs load on any
 * kernel, they attach only where the module is loaded. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

typedef struct {
	s64 counter;
} __pai atomic64_t;

struct nf_conn_counter {
	atomic64_t packets;
	atomic64_t bytes;
} __pai;

struct nf_conn_acct {
	struct nf_conn_counter counter[2];
} __pai;

struct nf_conntrack_net {
	atomic_t count;
	unsigned int expect_count;
} __pai;

struct nf_conntrack_helper {
	char name[16];
} __pai;

enum nf_nat_manip_type {
	NF_NAT_MANIP_SRC,
	NF_NAT_MANIP_DST,
};

struct nft_nat {
	u8 sreg_addr_min;
	u8 sreg_addr_max;
	u8 sreg_proto_min;
	u8 sreg_proto_max;
	enum nf_nat_manip_type type: 8;
	u8 family;
	u16 flags;
} __pai;

struct xdr_stream {
	u32 *p;
	unsigned int nwords;
} __pai;

struct rpcrdma_rep {
	u32 rr_xid;
	struct xdr_stream rr_stream;
} __pai;

struct mac_addr {
	u8 mac_addr_value[6];
} __pai;

struct port {
	u16 actor_port_number;
	struct mac_addr actor_system;
} __pai;

struct file_system_type {
	const char *name;
	int fs_flags;
} __pai;

struct btftool_no_such_module_type {
	int btftool_field;
} __pai;

char LICENSE[] SEC("license") = "GPL";

u64 seen[8];

SEC("kprobe/nf_ct_acct_add")
int BPF_KPROBE(conntrack_acct, struct nf_conn_acct *acct, struct nf_conntrack_net *cnet)
{
	seen[0] = BPF_CORE_READ(acct, counter[1].packets.counter);
	seen[1] = BPF_CORE_READ(cnet, expect_count);
	if (bpf_core_type_exists(struct nf_conntrack_helper))
		seen[2] = bpf_core_type_size(struct nf_conntrack_helper);
	if (bpf_core_type_matches(struct nf_conn_counter))
		seen[3]++;
	return 0;
}

SEC("kprobe/nft_nat_eval")
int BPF_KPROBE(nat_eval, void *expr)
{
	struct nft_nat *priv = expr;

	seen[4] = BPF_CORE_READ_BITFIELD_PROBED(priv, type);
	if (bpf_core_enum_value_exists(enum nf_nat_manip_type, NF_NAT_MANIP_DST))
		seen[4] += bpf_core_enum_value(enum nf_nat_manip_type, NF_NAT_MANIP_DST);
	return 0;
}

SEC("kprobe/rpcrdma_reply_handler")
int BPF_KPROBE(rdma_reply, struct rpcrdma_rep *rep)
{
	seen[5] = BPF_CORE_READ(rep, rr_stream.nwords);
	seen[5] += bpf_core_field_offset(struct xdr_stream, nwords);
	return 0;
}

SEC("kprobe/__update_selected")
int BPF_KPROBE(bond_port, void *agg, struct port *port)
{
	seen[6] = BPF_CORE_READ(port, actor_system.mac_addr_value[2]);
	seen[6] += bpf_core_field_size(struct mac_addr, mac_addr_value);
	return 0;
}

SEC("kprobe/register_filesystem")
int BPF_KPROBE(register_fs, struct file_system_type *fs)
{
	seen[7] = BPF_CORE_READ(fs, fs_flags);
	if (bpf_core_field_exists(struct btftool_no_such_module_type, btftool_field))
		seen[7]++;
	return 0;
}
