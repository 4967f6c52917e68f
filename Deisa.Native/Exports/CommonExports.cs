using System.Runtime.InteropServices;
using Deisa.Model;

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

    private static readonly byte* s_version = NativeCall.AllocUtf8(AbiConstants.Version);

    [UnmanagedCallersOnly(EntryPoint = "deisa_status_string")]
    public static byte* StatusString(int status) =>
        (byte*)((uint)status < (uint)s_statusStrings.Length - 1 ? s_statusStrings[status] : s_statusStrings[^1]);

    /// <summary>Each status code's text (static storage), then the text of a code that is none.</summary>
    private static readonly nint[] s_statusStrings = Enumerable.Range(0, (int)Enum.GetValues<DeisaStatus>().Max() + 1)
        .Select(i => AbiConstants.StatusMessage((DeisaStatus)i) ?? "unknown status")
        .Append("unknown status").Select(m => (nint)NativeCall.AllocUtf8(m)).ToArray();

    [UnmanagedCallersOnly(EntryPoint = "deisa_size_parse")]
    public static int SizeParse(byte* text, long* bytes) => NativeCall.Run(() =>
    {
        var o = NativeCall.Out(bytes, "bytes (out)");
        *o = 0;
        *o = ByteSize.Parse(NativeCall.Utf8(text, "text"), null);
    });
}
