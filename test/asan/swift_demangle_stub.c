/*
 * swift_demangle_stub.c
 *    Preloaded after gcc's libasan into the uninstrumented postgres binary
 *    by scripts/test_asan.sh (make test-asan), so that PostgreSQL starts.
 *
 * Why: preloaded into postgres, ASan initializes lazily, at the first
 * malloc, which happens inside libgpg-error's constructor while glibc's
 * bindtextdomain() holds _nl_state_lock for writing. ASan's initialization
 * looks up the optional symbol swift_demangle with dlsym(); the lookup
 * fails and the dlerror() that follows translates its message through
 * dcgettext(), which takes and releases the same lock: the lock's state is
 * corrupted and the next bindtextdomain() (PostgreSQL's own) blocks forever.
 * With the symbol defined, dlsym() succeeds and dlerror() has nothing to
 * translate. ASan only calls it for Swift-mangled names, which no C symbol
 * is; returning NULL means "not demangled".
 */
#include <stddef.h>
#include <stdint.h>

char *swift_demangle(const char *mangled, size_t mangled_len, char *out,
                     size_t *out_len, uint32_t flags);

char *
swift_demangle(const char *mangled, size_t mangled_len, char *out,
               size_t *out_len, uint32_t flags)
{
	return NULL;
}
