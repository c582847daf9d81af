/* Example libbpf loader fed by 'btftool select': it loads a CO-RE BPF
 * object relocated against the BTF file given, as libbpf's btf_custom_path,
 * for kernels that have no BTF of their own (/sys/kernel/btf/vmlinux).
 *
 *   btftool gen min_core_btf btfhub-archive min_core_btfs.tar.xz prog.bpf.o   # at build time
 *   btftool select min_core_btfs.tar.xz /run/myagent/vmlinux.btf              # on the target machine
 *   cc -O2 -o loader loader.c -lbpf
 *   sudo ./loader prog.bpf.o /run/myagent/vmlinux.btf
 *
 * 'btftool select' writes the kernel's own BTF when it has some, so the
 * same two steps work on every kernel; give --no-vmlinux to use the bundle
 * anyway. Without a BTF argument, libbpf uses the kernel's own BTF.
 */
#include <stdio.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o [BTF]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		opts.btf_custom_path = argv[2];
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "failed to load %s\n", argv[1]);
		return 1;
	}
	printf("loaded %s with BTF from %s\n", argv[1], argc == 3 ? argv[2] : "the kernel");
	bpf_object__close(obj);
	return 0;
}
