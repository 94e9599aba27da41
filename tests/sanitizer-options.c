/* Linked into every program of a --enable-sanitizers build.
 *
 * A program started by systemd in the test container (tcpkeepalived, the
 * generator, the BPF helper) gets no ASAN_OPTIONS from the test, and its
 * stderr goes to a journal the test never reads. These defaults send every
 * report to a file under the build tree's sanitizer-reports directory,
 * which the container test bed binds to the test's own directory; the test
 * fails when a report appears there (tests/lib.sh). The environment still
 * wins, so the tests on the host point reports at their own directory.
 * Leak checking is on: a leak fails the test like any other report. */
#ifndef TKA_SANITIZER_REPORT_DIR
#error "built only by ./configure --enable-sanitizers"
#endif

#define EXPORTED __attribute__((visibility("default"), used))

EXPORTED const char *__asan_default_options(void);
EXPORTED const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
        /* verify_asan_link_order=0: the tests preload libtcpkeepalive.so,
         * which then comes before the ASan runtime the program links. */
        return "log_path=" TKA_SANITIZER_REPORT_DIR "/asan:log_exe_name=1:detect_leaks=1"
               ":verify_asan_link_order=0:abort_on_error=0";
}

const char *__ubsan_default_options(void)
{
        return "log_path=" TKA_SANITIZER_REPORT_DIR "/ubsan:log_exe_name=1:print_stacktrace=1:halt_on_error=1";
}
