// Test-only stand-in for Windows' bcryptprimitives.dll, for Wine 8 (Debian 12), which lacks it.
// Rust's standard library (1.78+) and getrandom 0.3 import ProcessPrng from this DLL, so without it
// no Rust DLL loads under that Wine. Real Windows 10+ has the DLL; this file is never shipped.
// ProcessPrng fills the buffer from RtlGenRandom (advapi32's SystemFunction036), which Wine maps to
// the host's random source; RtlGenRandom takes a ULONG length, so large requests go in chunks.
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
