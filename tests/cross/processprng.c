/*
 * TEST-ONLY shim, never shipped: a stand-in bcryptprimitives.dll for running Rust
 * Windows binaries under Wine 8.0.
 *
 * Rust's std on Windows takes its randomness (e.g. HashMap seeds) from
 * bcryptprimitives.dll!ProcessPrng. Wine 8.0 has no such DLL, so the loader refuses
 * to start the program (exit 53). Placed next to the .exe, this DLL provides the one
 * export, backed by RtlGenRandom (advapi32!SystemFunction036), which Wine has.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll processprng.c -ladvapi32
 */
#include <windows.h>
#include <ntsecapi.h> /* RtlGenRandom, an alias of SystemFunction036 */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a ULONG length; SIZE_T may be larger. */
    while (len > 0) {
        ULONG chunk = len > 0x40000000u ? 0x40000000u : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    /* The real ProcessPrng is documented to always return TRUE. */
    return TRUE;
}
