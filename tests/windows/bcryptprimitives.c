/* For the Wine tests only: real Windows (10 and later) has this DLL.
 *
 * Wine 8 (Debian 12's) has no bcryptprimitives.dll, and Rust's standard
 * library on Windows (since 1.78) imports ProcessPrng from it for its
 * randomness (HashMap seeds among them), so no Rust program starts there.
 * This stands in for it, forwarding to RtlGenRandom
 * (advapi32!SystemFunction036), which Wine has. tests/windows builds it
 * next to a copy of lanchat.exe:
 *   x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID RandomBuffer, ULONG RandomBufferLength);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
    while (cbData > 0) {
        ULONG chunk = cbData > 0x7fffffffUL ? 0x7fffffffUL : (ULONG)cbData;
        if (!SystemFunction036(pbData, chunk))
            return FALSE;
        pbData += chunk;
        cbData -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID reserved)
{
    (void)h; (void)reason; (void)reserved;
    return TRUE;
}
