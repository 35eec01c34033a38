/*
 * TEST-ONLY probe for .ci/wine-identity: shows that the Wine set-up gives a Windows
 * program the facts s1trust reads, independently of s1trust itself.
 *
 * Prints key=value lines (UTF-8):
 *   imagePath=...       HKLM\SYSTEM\CurrentControlSet\Services\SentinelAgent ImagePath, unexpanded
 *   imagePathType=...   REG_EXPAND_SZ / REG_SZ / other
 *   sentinelLabsKey=... present / absent (HKLM\SOFTWARE\Sentinel Labs)
 *   rsmbSize=N          GetSystemFirmwareTable('RSMB') size, header included
 *   smbiosVersion=M.m   from the RawSMBIOSData header
 *   tableLength=N       structure bytes after the 8-byte header
 *   structures=N        number of SMBIOS structures walked
 *   type1Vendor=, type1Product=, type1Serial=, type2Serial=, type3Serial=
 * Exit 0 if every source could be read, 1 otherwise (details in the lines).
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -municode -o probe.exe probe.c -ladvapi32
 */
#define _WIN32_WINNT 0x0A00
#ifndef UNICODE
#define UNICODE
#endif
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RSMB 0x52534D42u /* 'RSMB' */
#define SENTINEL_SERVICE L"SYSTEM\\CurrentControlSet\\Services\\SentinelAgent"
#define SENTINEL_LABS L"SOFTWARE\\Sentinel Labs"

static void print_utf8(const char *key, const wchar_t *value)
{
    char buf[4096];
    int n = WideCharToMultiByte(CP_UTF8, 0, value, -1, buf, sizeof buf, NULL, NULL);
    printf("%s=%s\n", key, n > 0 ? buf : "<unconvertible>");
}

static int probe_registry(void)
{
    wchar_t data[2048];
    DWORD size = sizeof data, type = 0;
    HKEY key;
    int ok = 1;
    /* RRF_NOEXPAND: s1trust must cope with the raw REG_EXPAND_SZ text, so show that. */
    LSTATUS rc = RegGetValueW(HKEY_LOCAL_MACHINE, SENTINEL_SERVICE, L"ImagePath",
                              RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND,
                              &type, data, &size);
    if (rc == ERROR_SUCCESS) {
        print_utf8("imagePath", data);
        printf("imagePathType=%s\n", type == REG_EXPAND_SZ ? "REG_EXPAND_SZ"
                                     : type == REG_SZ      ? "REG_SZ" : "other");
    } else {
        printf("imagePath=<error %ld>\n", (long)rc);
        ok = 0;
    }
    rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, SENTINEL_LABS, 0, KEY_READ | KEY_WOW64_64KEY, &key);
    printf("sentinelLabsKey=%s\n", rc == ERROR_SUCCESS ? "present" : "absent");
    if (rc == ERROR_SUCCESS)
        RegCloseKey(key);
    else
        ok = 0;
    return ok;
}

/* The n-th (1-based) string of the structure at s with formatted length len. */
static const char *smbios_string(const BYTE *s, BYTE len, BYTE n, const BYTE *end)
{
    const char *p = (const char *)s + len;
    if (n == 0)
        return "";
    while (--n > 0) {
        if ((const BYTE *)p >= end || *p == 0)
            return "<bad index>";
        p += strnlen(p, (size_t)(end - (const BYTE *)p)) + 1;
    }
    return ((const BYTE *)p < end && *p) ? p : "<bad index>";
}

static int probe_rsmb(void)
{
    UINT size = GetSystemFirmwareTable(RSMB, 0, NULL, 0);
    BYTE *buf, *p, *end;
    DWORD table_len;
    int count = 0;
    const char *t1v = "<none>", *t1p = "<none>", *t1s = "<none>", *t2s = "<none>", *t3s = "<none>";

    printf("rsmbSize=%u\n", size);
    if (size < 8)
        return 0;
    buf = malloc(size);
    if (!buf || GetSystemFirmwareTable(RSMB, 0, buf, size) != size) {
        puts("rsmbError=second call returned a different size");
        return 0;
    }
    /* RawSMBIOSData: Used20CallingMethod, Major, Minor, DmiRevision, DWORD Length, data */
    memcpy(&table_len, buf + 4, sizeof table_len);
    printf("smbiosVersion=%u.%u\n", buf[1], buf[2]);
    printf("tableLength=%lu\n", (unsigned long)table_len);
    p = buf + 8;
    end = p + (table_len <= size - 8 ? table_len : size - 8);
    while (p + 4 <= end) {
        BYTE type = p[0], len = p[1];
        const BYTE *q;
        if (len < 4 || p + len > end)
            break;
        count++;
        if (type == 1 && len > 7) {
            t1v = smbios_string(p, len, p[4], end);
            t1p = smbios_string(p, len, p[5], end);
            t1s = smbios_string(p, len, p[7], end);
        } else if (type == 2 && len > 7) {
            t2s = smbios_string(p, len, p[7], end);
        } else if (type == 3 && len > 7) {
            t3s = smbios_string(p, len, p[7], end);
        }
        /* The string set ends with two NULs. */
        for (q = p + len; q + 1 < end && (q[0] || q[1]); q++)
            ;
        p = (BYTE *)q + 2;
        if (type == 127)
            break;
    }
    printf("structures=%d\n", count);
    printf("type1Vendor=%s\ntype1Product=%s\ntype1Serial=%s\n", t1v, t1p, t1s);
    printf("type2Serial=%s\ntype3Serial=%s\n", t2s, t3s);
    return count > 0;
}

int wmain(void)
{
    int ok = probe_registry();
    ok = probe_rsmb() && ok;
    return ok ? 0 : 1;
}
