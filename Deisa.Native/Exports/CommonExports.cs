using System.Runtime.InteropServices;

namespace Deisa.Native.Exports;

/// <summary>Exports shared by both sides: errors, strings, version.</summary>
internal static unsafe class CommonExports
{
    [UnmanagedCallersOnly(EntryPoint = "deisa_last_error")]
    public static byte* LastError() => NativeCall.LastError;

    [UnmanagedCallersOnly(EntryPoint = "deisa_string_free")]
    public static int StringFree(byte* s) => NativeCall.Run(() => { if (s != null) NativeMemory.Free(s); });

    [UnmanagedCallersOnly(EntryPoint = "deisa_version")]
    public static byte* Version() => s_version;

    private static readonly byte* s_version = NativeCall.AllocUtf8("0.1.0");
}
