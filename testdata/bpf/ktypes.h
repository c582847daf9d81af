/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Local, deliberately partial definitions of the kernel types the btftool
 * test corpus touches. Every type carries preserve_access_index so that clang
 * records CO-RE relocations against it; libbpf (or btftool) matches them by
 * name against the target kernel's BTF. This file plays the role of
 * vmlinux.h (hence __VMLINUX_H__, which makes bpf_tracing.h use the kernel's
 * pt_regs member names) without committing a 3 MB generated header.
 *
 * Field names and types were checked against the BTF of 4.18/4.19 (pahole),
 * 6.1 (amd64, arm64), 6.12 (amd64) and the 6.18 test-machine kernel. Some
 * local layouts are intentionally different from the kernel's (flattened
 * anonymous structs/unions, wider integer fields): CO-RE must cope with that.
 */
#ifndef __BTFTOOL_KTYPES_H
#define __BTFTOOL_KTYPES_H

#include <linux/types.h>

#define __VMLINUX_H__ 1

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;
typedef int pid_t;
typedef unsigned long size_t;
typedef _Bool bool;
#define true 1
#define false 0

#define __pai __attribute__((preserve_access_index))

/* Kernel typedefs of anonymous structs: relocations on them are rooted at
 * the TYPEDEF, which libbpf looks up by the typedef's name. */
typedef struct {
	int counter;
} __pai atomic_t;

typedef struct {
	unsigned int val;
} __pai kuid_t;

struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
} __pai;

struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
} __pai;

struct qstr {
	/* mirrors the kernel: hash/len live in an anonymous struct inside an
	 * anonymous union, so the access string carries anonymous indices */
	union {
		struct {
			u32 hash;
			u32 len;
		};
		u64 hash_len;
	};
	const unsigned char *name;
} __pai;

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	long long i_size;
} __pai;

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
} __pai;

struct vfsmount;

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __pai;

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	unsigned int f_mode;
	long long f_pos;
} __pai;

/* Flattened on purpose: since 4.19 these fields live in an anonymous struct
 * inside mm_struct (4.18 RHEL has it too); libbpf finds them through it. */
struct mm_struct {
	atomic_t mm_users;
	unsigned long total_vm;
	unsigned long arg_start;
	unsigned long arg_end;
} __pai;

struct cred {
	kuid_t uid;
	kuid_t euid;
} __pai;

struct signal_struct {
	int nr_threads;
} __pai;

struct task_struct {
	unsigned int __state;		/* 5.14+; "state" before */
	unsigned int flags;
	struct mm_struct *mm;
	int exit_code;
	int exit_signal;
	unsigned int in_execve: 1;	/* bitfields in every kernel */
	unsigned int in_iowait: 1;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	u64 start_time;
	const struct cred *real_cred;
	char comm[16];
	struct signal_struct *signal;
	kuid_t loginuid;
} __pai;

/* Flavor for kernels before 5.14 ("state" was a long). */
struct task_struct___old {
	long state;
} __pai;

struct sock_common {
	/* mirrors the kernel's anonymous unions */
	union {
		u64 skc_addrpair;
		struct {
			u32 skc_daddr;
			u32 skc_rcv_saddr;
		};
	};
	union {
		unsigned int skc_hash;
		u16 skc_u16hashes[2];
	};
	union {
		u32 skc_portpair;
		struct {
			u16 skc_dport;
			u16 skc_num;
		};
	};
	unsigned short skc_family;
	volatile unsigned char skc_state;
} __pai;

struct sock {
	struct sock_common __sk_common;
	/* sk_protocol/sk_type: 8/16-bit bitfields before 5.6, u16 since;
	 * sk_kern_sock/sk_no_check_tx: bitfields everywhere. The local
	 * declaration as bitfields makes clang emit the bitfield relocations. */
	unsigned int sk_padding: 1,
		     sk_kern_sock: 1,
		     sk_no_check_tx: 1,
		     sk_no_check_rx: 1,
		     sk_userlocks: 4,
		     sk_protocol: 8,
		     sk_type: 16;
	u16 sk_gso_max_segs;
} __pai;

/* priv_flags: u32 on 4.x, u64 on 6.1, a 32-bit bitfield inside an anonymous
 * struct in an anonymous union on 6.12+ */
struct net_device {
	char name[16];
	int ifindex;
	unsigned int mtu;
	unsigned long long priv_flags;
} __pai;

/* Flattened: dev and sk sit in anonymous unions/structs, protocol and
 * pkt_type inside the "headers" struct_group's anonymous struct on 6.x. */
struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;
	unsigned int data_len;
	u8 pkt_type: 3;
	u16 protocol;
	unsigned char *head;
	unsigned char *data;
} __pai;

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
} __pai;

struct trace_event_raw_sched_process_fork {
	struct trace_entry ent;
	char parent_comm[16];
	pid_t parent_pid;
	char child_comm[16];
	pid_t child_pid;
} __pai;

struct trace_event_raw_sched_process_template {
	struct trace_entry ent;
	char comm[16];
	pid_t pid;
	int prio;
} __pai;

#endif /* __BTFTOOL_KTYPES_H */
