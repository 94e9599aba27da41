/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "exe-check.h"
#include "trusted-path.h"

/* An ELF file without a PT_INTERP program header (64- or 32-bit). */
static bool elf_is_static(int fd) {
        unsigned char ident[EI_NIDENT];
        if (pread(fd, ident, sizeof(ident), 0) != sizeof(ident) || memcmp(ident, ELFMAG, SELFMAG) != 0)
                return false; /* a script: its interpreter is dynamic */
        if (ident[EI_CLASS] == ELFCLASS64) {
                Elf64_Ehdr eh;
                if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_phentsize != sizeof(Elf64_Phdr) ||
                    eh.e_phnum > 512)
                        return false;
                for (unsigned i = 0; i < eh.e_phnum; i++) {
                        Elf64_Phdr ph;
                        if (pread(fd, &ph, sizeof(ph), (off_t) (eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
                                return false;
                        if (ph.p_type == PT_INTERP)
                                return false;
                }
                return true;
        }
        if (ident[EI_CLASS] == ELFCLASS32) {
                Elf32_Ehdr eh;
                if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_phentsize != sizeof(Elf32_Phdr) ||
                    eh.e_phnum > 512)
                        return false;
                for (unsigned i = 0; i < eh.e_phnum; i++) {
                        Elf32_Phdr ph;
                        if (pread(fd, &ph, sizeof(ph), (off_t) (eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
                                return false;
                        if (ph.p_type == PT_INTERP)
                                return false;
                }
                return true;
        }
        return false;
}

bool exe_preload_works(const char *path, const char *name, char *reason, size_t size) {
        struct stat st;
        bool is_static, has_caps;
        /* The path can name a FIFO or a device its owner put there, and root
         * reads it (tcpkeepalive-bpf --auto before the service starts): O_PATH
         * opens nothing; only a regular file is then opened, the same inode. */
        int fd, path_fd = open(path, O_PATH | O_CLOEXEC);

        if (path_fd < 0)
                return true;
        if (!name)
                name = path;
        if (fstat(path_fd, &st) < 0 || !S_ISREG(st.st_mode) || (fd = trusted_path_reopen(path_fd)) < 0) {
                close(path_fd);
                return true; /* not a program we can judge: the preload is tried */
        }
        close(path_fd);
        is_static = elf_is_static(fd);
        has_caps = fgetxattr(fd, "security.capability", NULL, 0) > 0;
        close(fd);
        if (is_static) {
                snprintf(reason, size, "%s is statically linked", name);
                return false;
        }
        if (st.st_mode & (S_ISUID | S_ISGID)) {
                snprintf(reason, size, "%s is setuid/setgid", name);
                return false;
        }
        if (has_caps) {
                snprintf(reason, size, "%s has file capabilities", name);
                return false;
        }
        return true;
}
