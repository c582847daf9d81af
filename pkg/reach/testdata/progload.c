/* progload: loads one program of a BPF object with libbpf (the others'
 * autoload turned off), prints "loaded" or libbpf's and the verifier's
 * messages on stderr and exits 1. The reach tests build it with
 * "cc -O2 -o progload progload.c -lbpf" to compare their verdicts with
 * what libbpf itself does. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static int print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int found = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o PROGRAM\n", argv[0]);
		return 2;
	}
	libbpf_set_print(print);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open failed\n");
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		int me = !strcmp(bpf_program__name(prog), argv[2]);

		found |= me;
		bpf_program__set_autoload(prog, me);
	}
	if (!found) {
		fprintf(stderr, "no program %s\n", argv[2]);
		return 2;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	printf("loaded\n");
	bpf_object__close(obj);
	return 0;
}
