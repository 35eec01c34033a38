/*
 * TEST-ONLY security descriptor helper for .ci/wine-identity's registry store proof.
 *
 *   secdesc.exe key SUBKEY          prints the security descriptor of HKLM\SUBKEY as
 *                                   SDDL (owner, group, DACL)
 *   secdesc.exe key SUBKEY SDDL     replaces the key's owner and DACL with SDDL's
 *
 * Used to make HKLM\SOFTWARE\s1trust\Posture writable by Users, which s1trust must
 * then refuse to write. Exit 0 on success, 1 with a message on stderr otherwise.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -municode -o secdesc.exe secdesc.c -ladvapi32
 */
#define _WIN32_WINNT 0x0A00
#ifndef UNICODE
#define UNICODE
#endif
#include <windows.h>
#include <sddl.h>
#include <stdio.h>

static int fail(const wchar_t *what, LONG code) {
    fwprintf(stderr, L"secdesc: %ls failed (Windows error %ld)\n", what, code);
    return 1;
}

static int show(HKEY key) {
    const SECURITY_INFORMATION info =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    BYTE buffer[8192];
    DWORD size = sizeof buffer;
    LONG rc = RegGetKeySecurity(key, info, buffer, &size);
    if (rc != ERROR_SUCCESS) return fail(L"RegGetKeySecurity", rc);
    LPWSTR text = NULL;
    if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(buffer, SDDL_REVISION_1, info, &text, NULL))
        return fail(L"ConvertSecurityDescriptorToStringSecurityDescriptorW", (LONG)GetLastError());
    wprintf(L"%ls\n", text);
    LocalFree(text);
    return 0;
}

static int replace(HKEY key, const wchar_t *sddl) {
    PSECURITY_DESCRIPTOR descriptor = NULL;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &descriptor, NULL))
        return fail(L"ConvertStringSecurityDescriptorToSecurityDescriptorW", (LONG)GetLastError());
    LONG rc = RegSetKeySecurity(key, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, descriptor);
    LocalFree(descriptor);
    return rc == ERROR_SUCCESS ? 0 : fail(L"RegSetKeySecurity", rc);
}

static int key_command(int argc, wchar_t **argv) {
    REGSAM access = READ_CONTROL | KEY_WOW64_64KEY | (argc == 4 ? WRITE_DAC | WRITE_OWNER : 0);
    HKEY key;
    LONG rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, argv[2], 0, access, &key);
    if (rc != ERROR_SUCCESS) return fail(L"RegOpenKeyExW", rc);
    int status = argc == 4 ? replace(key, argv[3]) : show(key);
    RegCloseKey(key);
    return status;
}

int wmain(int argc, wchar_t **argv) {
    if ((argc == 3 || argc == 4) && wcscmp(argv[1], L"key") == 0) return key_command(argc, argv);
    fwprintf(stderr, L"usage: secdesc.exe key SUBKEY [SDDL]\n");
    return 1;
}
