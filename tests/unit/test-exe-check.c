/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-exe-check: exe_preload_works (lib/shared/exe-check.c), the check
 * behind Method=auto and the daemon's "unsupported" reason, on ELF files
 * built here byte by byte in a temporary directory: dynamic and static,
 * 64- and 32-bit, with the Go linker's .go.buildinfo section, its
 * .note.go.buildid section, or only its "Go" build ID note in a PT_NOTE
 * segment (section headers stripped); near misses that are not Go; and
 * malformed headers (section tables past the end of the file, string
 * table indexes out of range, names running off their table, notes whose
 * sizes lie), every truncation of a Go binary and randomly corrupted
 * headers, which must neither crash nor read out of bounds (run it under
 * ASan: --enable-sanitizers). With Go installed (golang-go), real Go
 * binaries too: a dynamically linked one (cgo, the default) and a
 * CGO_ENABLED=0 static one. Exits 1 naming every failed case.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exe-check.h"

#define GO_REASON ": Go runtime: its sockets do not go through libc"

static int failures;
static char dir[] = "/tmp/test-exe-check-XXXXXX";

enum note_kind { NOTE_NONE, NOTE_GO, NOTE_GNU_TYPE4, NOTE_GO_TYPE1 };

struct spec {
        bool is32;
        bool interp;
        enum note_kind note;
        const char *sections[3]; /* besides the null section and .shstrtab */
        bool no_shdrs;           /* section headers stripped (e_shnum 0) */
};

/* The parts of a file built from a spec, for the malformed cases. */
struct layout {
        size_t size, ehdr_shoff, ehdr_shnum, ehdr_shstrndx, shdrs, shstrtab, note;
};

static unsigned char *put(unsigned char *buf, size_t *pos, const void *data, size_t len) {
        memcpy(buf + *pos, data, len);
        *pos += len;
        return buf;
}

static void align8(size_t *pos) {
        *pos = (*pos + 7) & ~(size_t) 7;
}

/* Builds the file of spec s into buf (zeroed, large enough); returns its layout. */
static struct layout build(const struct spec *s, unsigned char *buf) {
        static const char interp[] = "/lib64/ld-linux-x86-64.so.2";
        struct layout l = { 0 };
        unsigned char note[24];
        char strtab[256] = "";
        size_t strtab_len = 1, name_off[4], phnum = 0, pos, interp_off, note_off = 0, nsec = 0;
        uint32_t nh[3] = { 3, 8, 4 };

        memset(note, 0, sizeof(note));
        if (s->note == NOTE_GNU_TYPE4)
                memcpy(note + 12, "GNU", 4);
        else
                memcpy(note + 12, "Go", 3);
        if (s->note == NOTE_GO_TYPE1)
                nh[2] = 1;
        if (s->note == NOTE_GNU_TYPE4)
                nh[0] = 4;
        memcpy(note, nh, sizeof(nh));
        memcpy(note + 16, "buildid!", 8);

        for (size_t i = 0; i < 3 && s->sections[i]; i++, nsec++) {
                name_off[i] = strtab_len;
                strcpy(strtab + strtab_len, s->sections[i]);
                strtab_len += strlen(s->sections[i]) + 1;
        }
        name_off[nsec] = strtab_len;
        strcpy(strtab + strtab_len, ".shstrtab");
        strtab_len += strlen(".shstrtab") + 1;

        phnum = (s->interp ? 1 : 0) + (s->note ? 1 : 0) + 1; /* and a PT_LOAD */
        pos = s->is32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
        pos += phnum * (s->is32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr));
        interp_off = pos;
        put(buf, &pos, interp, sizeof(interp));
        align8(&pos);
        if (s->note) {
                note_off = pos;
                put(buf, &pos, note, sizeof(note));
        }
        l.note = note_off;
        l.shstrtab = pos;
        put(buf, &pos, strtab, strtab_len);
        align8(&pos);
        l.shdrs = pos;

        /* Program headers. */
        {
                size_t ph = s->is32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
                struct { uint32_t type; size_t off, len, align; } phs[3];
                size_t n = 0;
                if (s->interp)
                        phs[n++] = (typeof(phs[0])) { PT_INTERP, interp_off, sizeof(interp), 1 };
                if (s->note)
                        phs[n++] = (typeof(phs[0])) { PT_NOTE, note_off, sizeof(note), 4 };
                phs[n++] = (typeof(phs[0])) { PT_LOAD, 0, 0, 4096 };
                for (size_t i = 0; i < n; i++) {
                        if (s->is32) {
                                Elf32_Phdr p = { .p_type = phs[i].type, .p_offset = (Elf32_Off) phs[i].off,
                                                 .p_filesz = (Elf32_Word) phs[i].len, .p_align = (Elf32_Word) phs[i].align };
                                put(buf, &ph, &p, sizeof(p));
                        } else {
                                Elf64_Phdr p = { .p_type = phs[i].type, .p_offset = phs[i].off, .p_filesz = phs[i].len,
                                                 .p_align = phs[i].align };
                                put(buf, &ph, &p, sizeof(p));
                        }
                }
        }
        /* Section headers: null, the named ones (empty, at offset 0), .shstrtab. */
        for (size_t i = 0; i < nsec + 2; i++) {
                uint32_t name = i == 0 ? 0 : (uint32_t) name_off[i - 1];
                size_t off = i == nsec + 1 ? l.shstrtab : 0, len = i == nsec + 1 ? strtab_len : 0;
                if (s->is32) {
                        Elf32_Shdr sh = { .sh_name = name, .sh_type = i == nsec + 1 ? SHT_STRTAB : i ? SHT_PROGBITS : 0,
                                          .sh_offset = (Elf32_Off) off, .sh_size = (Elf32_Word) len };
                        put(buf, &pos, &sh, sizeof(sh));
                } else {
                        Elf64_Shdr sh = { .sh_name = name, .sh_type = i == nsec + 1 ? SHT_STRTAB : i ? SHT_PROGBITS : 0,
                                          .sh_offset = off, .sh_size = len };
                        put(buf, &pos, &sh, sizeof(sh));
                }
        }
        l.size = pos;

        /* The ELF header. */
        if (s->is32) {
                Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
                                  .e_phoff = sizeof(Elf32_Ehdr), .e_shoff = (Elf32_Off) l.shdrs,
                                  .e_ehsize = sizeof(Elf32_Ehdr), .e_phentsize = sizeof(Elf32_Phdr),
                                  .e_phnum = (Elf32_Half) phnum, .e_shentsize = sizeof(Elf32_Shdr),
                                  .e_shnum = (Elf32_Half) (s->no_shdrs ? 0 : nsec + 2),
                                  .e_shstrndx = (Elf32_Half) (s->no_shdrs ? 0 : nsec + 1) };
                memcpy(eh.e_ident, ELFMAG, SELFMAG);
                eh.e_ident[EI_CLASS] = ELFCLASS32;
                eh.e_ident[EI_DATA] = ELFDATA2LSB;
                eh.e_ident[EI_VERSION] = EV_CURRENT;
                memcpy(buf, &eh, sizeof(eh));
                l.ehdr_shoff = offsetof(Elf32_Ehdr, e_shoff);
                l.ehdr_shnum = offsetof(Elf32_Ehdr, e_shnum);
                l.ehdr_shstrndx = offsetof(Elf32_Ehdr, e_shstrndx);
        } else {
                Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                                  .e_phoff = sizeof(Elf64_Ehdr), .e_shoff = l.shdrs, .e_ehsize = sizeof(Elf64_Ehdr),
                                  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (Elf64_Half) phnum,
                                  .e_shentsize = sizeof(Elf64_Shdr),
                                  .e_shnum = (Elf64_Half) (s->no_shdrs ? 0 : nsec + 2),
                                  .e_shstrndx = (Elf64_Half) (s->no_shdrs ? 0 : nsec + 1) };
                memcpy(eh.e_ident, ELFMAG, SELFMAG);
                eh.e_ident[EI_CLASS] = ELFCLASS64;
                eh.e_ident[EI_DATA] = ELFDATA2LSB;
                eh.e_ident[EI_VERSION] = EV_CURRENT;
                memcpy(buf, &eh, sizeof(eh));
                l.ehdr_shoff = offsetof(Elf64_Ehdr, e_shoff);
                l.ehdr_shnum = offsetof(Elf64_Ehdr, e_shnum);
                l.ehdr_shstrndx = offsetof(Elf64_Ehdr, e_shstrndx);
        }
        return l;
}

static char *write_file(const char *name, const unsigned char *buf, size_t len) {
        static char path[512];
        int fd;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        (void) unlink(path);
        if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755)) < 0 ||
            write(fd, buf, len) != (ssize_t) len || close(fd) < 0) {
                perror(path);
                exit(2);
        }
        return path;
}

/* want: "" for "the preload works", else the reason's tail after the path. */
static void expect_path(const char *what, const char *path, const char *want) {
        char reason[512] = "";
        bool works = exe_preload_works(path, NULL, reason, sizeof(reason));
        char expected[600];

        if (!*want) {
                if (!works) {
                        printf("FAIL: %s: the preload should work, got false (\"%s\")\n", what, reason);
                        failures++;
                }
                return;
        }
        snprintf(expected, sizeof(expected), "%s%s", path, want);
        if (works || strcmp(reason, expected) != 0) {
                printf("FAIL: %s: got %s \"%s\", want false \"%s\"\n", what, works ? "true" : "false", reason, expected);
                failures++;
        }
}

static void expect_buf(const char *what, const unsigned char *buf, size_t len, const char *want) {
        expect_path(what, write_file("elf", buf, len), want);
}

static void expect_spec(const char *what, const struct spec *s, const char *want) {
        unsigned char buf[4096] = { 0 };
        struct layout l = build(s, buf);
        expect_buf(what, buf, l.size, want);
}

static void set16(unsigned char *buf, size_t off, uint16_t v) {
        memcpy(buf + off, &v, sizeof(v));
}

/* Any answer is acceptable for garbage, but it is whole: a false comes
 * with one of the reasons, NUL-terminated. ASan does the rest. */
static void expect_sane(const char *what, const char *path) {
        char reason[512];
        memset(reason, 'x', sizeof(reason));
        if (!exe_preload_works(path, "p", reason, sizeof(reason)) &&
            strcmp(reason, "p" GO_REASON) != 0 && strcmp(reason, "p is statically linked") != 0) {
                printf("FAIL: %s: unexpected reason \"%.*s\"\n", what, (int) sizeof(reason) - 1, reason);
                failures++;
        }
}

static void malformed(void) {
        const struct spec go = { .interp = true, .sections = { ".text", ".go.buildinfo" } };
        unsigned char buf[4096] = { 0 }, work[4096];
        struct layout l = build(&go, buf);

        /* Section table offset past the end of the file, or wrapping. */
        memcpy(work, buf, l.size);
        memset(work + l.ehdr_shoff, 0xff, 8);
        expect_buf("e_shoff = 2^64-1", work, l.size, "");
        memcpy(work, buf, l.size);
        {
                uint64_t off = l.size - 10;
                memcpy(work + l.ehdr_shoff, &off, 8);
        }
        expect_buf("section table running past the end", work, l.size, "");
        /* e_shstrndx out of range, SHN_UNDEF, SHN_XINDEX with a sane and a wild sh_link. */
        memcpy(work, buf, l.size);
        set16(work, l.ehdr_shstrndx, 40);
        expect_buf("e_shstrndx past e_shnum", work, l.size, "");
        set16(work, l.ehdr_shstrndx, SHN_UNDEF);
        expect_buf("e_shstrndx SHN_UNDEF", work, l.size, "");
        set16(work, l.ehdr_shstrndx, SHN_XINDEX);
        {
                uint32_t link = 3; /* .shstrtab: null, .text, .go.buildinfo, .shstrtab */
                memcpy(work + l.shdrs + offsetof(Elf64_Shdr, sh_link), &link, 4);
                expect_buf("SHN_XINDEX, section 0's sh_link naming .shstrtab", work, l.size, GO_REASON);
                link = 0xffffffffu;
                memcpy(work + l.shdrs + offsetof(Elf64_Shdr, sh_link), &link, 4);
                expect_buf("SHN_XINDEX, section 0's sh_link out of range", work, l.size, "");
        }
        /* More sections claimed than the file holds; more than the limit. */
        memcpy(work, buf, l.size);
        set16(work, l.ehdr_shnum, 60000);
        expect_buf("e_shnum 60000 in a small file", work, l.size, "");
        /* The string table's size or offset lying. */
        memcpy(work, buf, l.size);
        {
                size_t strsec = l.shdrs + 3 * sizeof(Elf64_Shdr);
                uint64_t v = UINT64_MAX;
                memcpy(work + strsec + offsetof(Elf64_Shdr, sh_size), &v, 8);
                expect_buf("a string table of 2^64-1 bytes", work, l.size, "");
                memcpy(work, buf, l.size);
                memcpy(work + strsec + offsetof(Elf64_Shdr, sh_offset), &v, 8);
                expect_buf("a string table at 2^64-1", work, l.size, "");
                /* The table ends in the middle of ".go.buildinfo": the name
                 * runs off it (its size cut to just before the name's NUL). */
                memcpy(work, buf, l.size);
                v = 1 + strlen(".text") + 1 + strlen(".go.buildinfo");
                memcpy(work + strsec + offsetof(Elf64_Shdr, sh_size), &v, 8);
                expect_buf("a section name without its NUL inside the table", work, l.size, "");
                /* A name offset past the table. */
                memcpy(work, buf, l.size);
                uint32_t name = 0xfffffff0u;
                memcpy(work + l.shdrs + 2 * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_name), &name, 4);
                expect_buf("a section name offset past the table", work, l.size, "");
        }
        /* Notes whose sizes lie (sections stripped: only the note tells). */
        {
                const struct spec note = { .interp = true, .note = NOTE_GO, .no_shdrs = true };
                struct layout n;
                uint32_t v;
                memset(buf, 0, sizeof(buf));
                n = build(&note, buf);
                memcpy(work, buf, n.size);
                v = 0xffffffffu;
                memcpy(work + n.note, &v, 4);
                expect_buf("a note with namesz 2^32-1", work, n.size, "");
                memcpy(work, buf, n.size);
                memcpy(work + n.note + 4, &v, 4);
                expect_buf("a note with descsz 2^32-1 (its name is read first)", work, n.size, GO_REASON);
                /* A first note, not Go, whose descsz runs off the segment: the walk stops. */
                memcpy(work, buf, n.size);
                memcpy(work + n.note + 12, "Gx", 3);
                memcpy(work + n.note + 4, &v, 4);
                expect_buf("a non-Go note with descsz 2^32-1", work, n.size, "");
                /* The PT_NOTE segment past the end of the file. */
                memcpy(work, buf, n.size);
                {
                        size_t ph = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr); /* INTERP, NOTE, LOAD */
                        uint64_t off = UINT64_MAX - 4;
                        memcpy(work + ph + offsetof(Elf64_Phdr, p_offset), &off, 8);
                        expect_buf("a PT_NOTE at 2^64-5", work, n.size, "");
                }
        }
        /* Program headers running past the end, or too many to look at: not
         * judged static; the sections still tell Go. */
        {
                struct layout g;
                memset(buf, 0, sizeof(buf));
                g = build(&go, buf);
                memcpy(work, buf, g.size);
                set16(work, offsetof(Elf64_Ehdr, e_phnum), 500);
                expect_buf("500 program headers claimed, section table intact", work, g.size, GO_REASON);
                set16(work, offsetof(Elf64_Ehdr, e_phnum), 0xffff);
                expect_buf("e_phnum PN_XNUM", work, g.size, GO_REASON);
                /* ... and without the Go section, neither Go nor static. */
                memset(buf, 0, sizeof(buf));
                g = build(&(struct spec) { .sections = { ".text" } }, buf);
                memcpy(work, buf, g.size);
                set16(work, offsetof(Elf64_Ehdr, e_phnum), 0xffff);
                expect_buf("e_phnum PN_XNUM, not Go", work, g.size, "");
        }
}

/* Every truncation of a Go binary and of a plain one, and random bytes
 * written into the headers of each kind of file: no crash, no read out of
 * bounds (under ASan), only known answers. */
static void fuzz(void) {
        static const struct spec specs[] = {
                { .interp = true, .sections = { ".text", ".go.buildinfo" } },
                { .interp = true, .note = NOTE_GO, .no_shdrs = true },
                { .interp = false, .note = NOTE_GO, .sections = { ".note.go.buildid" } },
                { .is32 = true, .interp = true, .note = NOTE_GO, .sections = { ".go.buildinfo", ".data" } },
                { .interp = true, .sections = { ".text" } },
        };
        unsigned char buf[4096], work[4096];
        unsigned seed = 20261202;

        for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
                struct layout l;
                char what[64];
                memset(buf, 0, sizeof(buf));
                l = build(&specs[k], buf);
                for (size_t len = 0; len <= l.size; len++) {
                        snprintf(what, sizeof(what), "spec %zu truncated to %zu bytes", k, len);
                        expect_sane(what, write_file("trunc", buf, len));
                        if (len < (specs[k].is32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr)))
                                expect_buf(what, buf, len, ""); /* no ELF header: not judged */
                }
                for (int i = 0; i < 3000; i++) {
                        size_t len = l.size;
                        memcpy(work, buf, l.size);
                        for (int j = 1 + rand_r(&seed) % 8; j > 0; j--) {
                                /* mostly the headers, sometimes anywhere */
                                size_t at = rand_r(&seed) % 4 ? (size_t) rand_r(&seed) % 64 : (size_t) rand_r(&seed) % l.size;
                                work[at] = (unsigned char) rand_r(&seed);
                                if (rand_r(&seed) % 4 == 0) /* a multi-byte value at its extreme */
                                        memset(work + at, rand_r(&seed) % 2 ? 0xff : 0, at + 8 <= l.size ? 8 : l.size - at);
                        }
                        if (rand_r(&seed) % 8 == 0)
                                len = (size_t) rand_r(&seed) % l.size;
                        snprintf(what, sizeof(what), "spec %zu corrupted, round %d", k, i);
                        expect_sane(what, write_file("fuzz", work, len));
                }
        }
}

/* Real Go binaries, when Go is installed: go build at test time, standard
 * library only, caches under the temporary directory, no network. */
static void real_go(void) {
        char cmd[4096], path[600];
        FILE *f;

        if (system("command -v go >/dev/null 2>&1") != 0) {
                printf("note: no go in PATH (apt-get install golang-go): real Go binaries not tested\n");
                return;
        }
        snprintf(path, sizeof(path), "%s/go", dir);
        if (mkdir(path, 0700) < 0) {
                perror(path);
                exit(2);
        }
        snprintf(path, sizeof(path), "%s/go/main.go", dir);
        if (!(f = fopen(path, "w"))) {
                perror(path);
                exit(2);
        }
        fputs("package main\n\nimport (\n\t\"io\"\n\t\"net\"\n)\n\nfunc main() {\n"
              "\tl, err := net.Listen(\"tcp\", \"127.0.0.1:0\")\n\tif err != nil {\n\t\treturn\n\t}\n"
              "\tfor {\n\t\tc, err := l.Accept()\n\t\tif err != nil {\n\t\t\treturn\n\t\t}\n"
              "\t\tgo io.Copy(c, c)\n\t}\n}\n",
              f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/go/go.mod", dir);
        if (!(f = fopen(path, "w"))) {
                perror(path);
                exit(2);
        }
        fputs("module echo\n\ngo 1.13\n", f);
        fclose(f);
        snprintf(cmd, sizeof(cmd),
                 "cd '%1$s/go' && export HOME='%1$s/go' GOCACHE='%1$s/go/cache' GOPATH='%1$s/go/path' GOFLAGS=-mod=mod "
                 "GOPROXY=off GOTOOLCHAIN=local && go build -o dyn . && CGO_ENABLED=0 go build -o static . && "
                 "chmod -R u+w '%1$s/go'",
                 dir);
        if (system(cmd) != 0) {
                printf("FAIL: go build of a small echo server failed\n");
                failures++;
                return;
        }
        snprintf(path, sizeof(path), "%s/go/dyn", dir);
        snprintf(cmd, sizeof(cmd), "readelf -lW '%s' | grep -q 'INTERP'", path);
        if (system(cmd) != 0) {
                printf("FAIL: the default (cgo) go build should be dynamically linked: no INTERP in %s\n", path);
                failures++;
        }
        expect_path("a real dynamically linked Go binary", path, GO_REASON);
        snprintf(path, sizeof(path), "%s/go/static", dir);
        expect_path("a real CGO_ENABLED=0 (static) Go binary", path, GO_REASON);
        printf("ok: real Go binaries, dynamic and static\n");
}

int main(void) {
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 2;
        }

        /* Not Go: the earlier answers. */
        expect_spec("a plain dynamic program", &(struct spec) { .interp = true, .sections = { ".text", ".data" } }, "");
        expect_spec("a plain static program", &(struct spec) { .sections = { ".text" } }, " is statically linked");
        expect_spec("a plain 32-bit dynamic program", &(struct spec) { .is32 = true, .interp = true, .sections = { ".text" } },
                    "");
        expect_spec("a plain 32-bit static program", &(struct spec) { .is32 = true, .sections = { ".text" } },
                    " is statically linked");
        /* Go, dynamic and static, 64- and 32-bit, by each mark alone. */
        expect_spec("dynamic, .go.buildinfo", &(struct spec) { .interp = true, .sections = { ".text", ".go.buildinfo" } },
                    GO_REASON);
        expect_spec("static, .go.buildinfo", &(struct spec) { .sections = { ".go.buildinfo", ".text" } }, GO_REASON);
        expect_spec("dynamic, .note.go.buildid section, no PT_NOTE",
                    &(struct spec) { .interp = true, .sections = { ".note.go.buildid" } }, GO_REASON);
        expect_spec("dynamic, Go note in PT_NOTE, section headers stripped",
                    &(struct spec) { .interp = true, .note = NOTE_GO, .no_shdrs = true }, GO_REASON);
        expect_spec("static, Go note in PT_NOTE, section headers stripped",
                    &(struct spec) { .note = NOTE_GO, .no_shdrs = true }, GO_REASON);
        expect_spec("32-bit dynamic, .go.buildinfo",
                    &(struct spec) { .is32 = true, .interp = true, .sections = { ".go.buildinfo" } }, GO_REASON);
        expect_spec("32-bit static, Go note only",
                    &(struct spec) { .is32 = true, .note = NOTE_GO, .no_shdrs = true }, GO_REASON);
        /* Near misses. */
        expect_spec("a GNU note of type 4", &(struct spec) { .interp = true, .note = NOTE_GNU_TYPE4, .no_shdrs = true },
                    "");
        expect_spec("a Go note of type 1", &(struct spec) { .interp = true, .note = NOTE_GO_TYPE1, .no_shdrs = true },
                    "");
        expect_spec("a section .go.buildinfox",
                    &(struct spec) { .interp = true, .sections = { ".go.buildinfox", ".go.buildinf" } }, "");
        expect_spec("a section .note.go.buildid.x", &(struct spec) { .interp = true, .sections = { ".note.go.buildid.x" } },
                    "");
        /* setuid, and setuid Go (Go's reason wins: it is why BPF is needed). */
        {
                const char *p;
                unsigned char buf[4096] = { 0 };
                struct layout l = build(&(struct spec) { .interp = true, .sections = { ".text" } }, buf);
                p = write_file("suid", buf, l.size);
                if (chmod(p, 04755) < 0) {
                        perror(p);
                        return 2;
                }
                expect_path("a plain setuid program", p, " is setuid/setgid");
                memset(buf, 0, sizeof(buf));
                l = build(&(struct spec) { .interp = true, .sections = { ".go.buildinfo" } }, buf);
                p = write_file("suid-go", buf, l.size);
                if (chmod(p, 04755) < 0) {
                        perror(p);
                        return 2;
                }
                expect_path("a setuid Go program", p, GO_REASON);
        }
        /* The reason is cut, never overrun, in a small buffer. */
        {
                char small[16];
                unsigned char buf[4096] = { 0 };
                struct layout l = build(&(struct spec) { .interp = true, .sections = { ".go.buildinfo" } }, buf);
                const char *p = write_file("small", buf, l.size);
                memset(small, 'x', sizeof(small));
                if (exe_preload_works(p, "/usr/bin/some-go-server", small, sizeof(small)) ||
                    strcmp(small, "/usr/bin/some-g") != 0) {
                        printf("FAIL: a 16-byte reason buffer: got \"%.16s\"\n", small);
                        failures++;
                }
        }
        /* Not a program we can judge: the preload is tried. */
        expect_path("a missing file", "/nonexistent/prog", "");
        expect_buf("an empty file", (const unsigned char *) "", 0, "");
        expect_buf("a script", (const unsigned char *) "#!/bin/sh\nexit 0\n", 17, "");
        {
                unsigned char buf[4096] = { 0 };
                struct layout l = build(&(struct spec) { .sections = { ".go.buildinfo" } }, buf);
                buf[EI_DATA] = ELFDATA2MSB;
                expect_buf("a big-endian ELF file (not for this machine)", buf, l.size, "");
        }
        /* This test itself: a dynamically linked C program. */
        {
                char self[512];
                ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
                if (n > 0) {
                        self[n] = 0;
                        expect_path("this test (a dynamic C program)", self, "");
                }
        }

        malformed();
        fuzz();
        real_go();

        {
                char cmd[600];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                if (system(cmd) != 0)
                        printf("note: could not remove %s\n", dir);
        }
        if (failures) {
                printf("%d failure(s)\n", failures);
                return 1;
        }
        printf("ok: exe_preload_works\n");
        return 0;
}
