// SPDX-License-Identifier: GPL-2.0
/* netdrop: packet drop accounting on skb:kfree_skb. Covers <enumval_exists>
 * and <enumval_value> on enum skb_drop_reason (missing before 5.17 except a
 * backport in 4.19-ky10-v2207, values renumbered between 6.1 and 6.12, one
 * enumerator only in newer kernels, one in none, an enum type in none), a
 * tracepoint context field that exists only on 6.x (reason, guarded), and
 * sk_buff fields that sit in anonymous unions/struct_groups on 6.x (dev, sk,
 * protocol, the pkt_type bitfield) while the local sk_buff is flat. Also an
 * ENUM64 enum (netdev_priv_flags) whose kind and values vary by kernel, and
 * net_device.priv_flags, read as a bitfield although it is one only on 6.12+. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum skb_drop_reason {
	SKB_DROP_REASON_NOT_SPECIFIED,
	SKB_DROP_REASON_NO_SOCKET,
	SKB_DROP_REASON_NETFILTER_DROP,
	SKB_DROP_REASON_BTFTOOL_NONE,	/* in no kernel */
};

/* ENUM64 locally (one value needs 64 bits); ENUM64 in 6.1, a 32-bit ENUM in
 * 4.x and 6.12+. IFF_CHANGE_PROTO_DOWN exists only in 6.1, IFF_NO_ADDRCONF
 * only in 6.x (6.3+), IFF_LIVE_RENAME_OK only up to 6.1. */
enum netdev_priv_flags {
	IFF_EBRIDGE = 1ULL << 1,
	IFF_LIVE_RENAME_OK = 1ULL << 30,
	IFF_NO_ADDRCONF = 1ULL << 30,
	IFF_CHANGE_PROTO_DOWN = 1ULL << 32,
};

enum btftool_no_such_enum {
	BTFTOOL_NO_SUCH_VALUE = 1,
};

struct trace_event_raw_kfree_skb {
	struct trace_entry ent;
	void *skbaddr;
	void *location;
	unsigned short protocol;
	enum skb_drop_reason reason;	/* 5.17+ */
} __pai;

struct key {
	u32 reason;
	u32 ifindex;
	u16 protocol;
	u8 pkt_type;
	u8 has_sk;
	u32 dev_kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct key);
	__type(value, u64);
} drops SEC(".maps");

SEC("tracepoint/skb/kfree_skb")
int kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	struct net_device *dev;
	struct key k = {};
	u64 one = 1, *v;
	u32 reason = 0;

	if (bpf_core_field_exists(ctx->reason))
		reason = ctx->reason;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return 0;	/* plain kfree_skb(), not a drop */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NETFILTER_DROP) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NETFILTER_DROP))
		reason = 1000;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_BTFTOOL_NONE))
		reason += bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_BTFTOOL_NONE);
	if (bpf_core_enum_value_exists(enum btftool_no_such_enum, BTFTOOL_NO_SUCH_VALUE))
		reason += bpf_core_enum_value(enum btftool_no_such_enum, BTFTOOL_NO_SUCH_VALUE);

	k.reason = reason;
	k.ifindex = BPF_CORE_READ(skb, dev, ifindex);
	k.protocol = BPF_CORE_READ(skb, protocol);
	k.pkt_type = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	k.has_sk = BPF_CORE_READ(skb, sk) != 0;

	dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		u64 pf = BPF_CORE_READ_BITFIELD_PROBED(dev, priv_flags);

		if (pf & bpf_core_enum_value(enum netdev_priv_flags, IFF_EBRIDGE))
			k.dev_kind |= 1;
		if (bpf_core_enum_value_exists(enum netdev_priv_flags, IFF_NO_ADDRCONF) &&
		    (pf & bpf_core_enum_value(enum netdev_priv_flags, IFF_NO_ADDRCONF)))
			k.dev_kind |= 2;
		if (bpf_core_enum_value_exists(enum netdev_priv_flags, IFF_LIVE_RENAME_OK) &&
		    (pf & bpf_core_enum_value(enum netdev_priv_flags, IFF_LIVE_RENAME_OK)))
			k.dev_kind |= 4;
		if (bpf_core_enum_value_exists(enum netdev_priv_flags, IFF_CHANGE_PROTO_DOWN) &&
		    (pf & bpf_core_enum_value(enum netdev_priv_flags, IFF_CHANGE_PROTO_DOWN)))
			k.dev_kind |= 8;
	}

	v = bpf_map_lookup_elem(&drops, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&drops, &k, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
