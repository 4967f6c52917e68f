using System.Runtime.InteropServices;

namespace Deisa.Native.Exports;

/// <summary>Exports shared by both sides: errors, strings, version.</summary>
internal static unsafe class CommonExports
{
    [UnmanagedCallersOnly(EntryPoint = "deisa_last_error")]
    public static byte* LastError() => NativeCall.LastError;

    [UnmanagedCallersOnly(EntryPoint = "deisa_string_free")]
    public static int StringFree(byte* s) => NativeCall.Run(() => { if (s != null) NativeMemory.Free(s); });

    [UnmanagedCallersOnly(EntryPoint = "deisa_set_last_error")]
    public static int SetLastError(int status, byte* message)
    {
        // For bindings (the Fortran module) that detect an error themselves: their message goes
        // where deisa_last_error() finds it, so users have one place to look.
        NativeCall.SetError(status == 0 ? null : message == null ? "unknown error" : Marshal.PtrToStringUTF8((nint)message));
        return status;
    }

    [UnmanagedCallersOnly(EntryPoint = "deisa_version")]
    public static byte* Version() => s_version;

    private static readonly byte* s_version = NativeCall.AllocUtf8("0.1.0");
}
