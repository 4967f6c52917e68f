using System.Runtime.InteropServices;
using Deisa.Hosting;
using Deisa.Model;

namespace Deisa.Native.Exports;

/// <summary>
/// A cluster node's node service, as the Python package's Dask worker plugin runs it: start it
/// in a worker, read the blocks its node holds in place (a view and its lease), stop it.
/// </summary>
internal static unsafe class NodeExports
{
    private const string N = "node";

    [UnmanagedCallersOnly(EntryPoint = "deisa_node_open")]
    public static int Open(byte* rendezvous, byte* worker, nint* node) => NativeCall.Run(() =>
    {
        var outp = NativeCall.Out(node, "node (out)");
        *outp = 0;
        *outp = HandleTable.Add(NodeService.Start(NativeCall.OptionalUtf8(rendezvous, "rendezvous"), NativeCall.Utf8(worker, "worker")));
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_node_state")]
    public static int State(nint node, byte** json) => NativeCall.Run(() =>
    {
        var service = HandleTable.Get<NodeService>(node, N);
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var current = service.Current;
        *o = NativeJson.Allocate(new NodeServiceInfo(service.State, current?.Session, current?.Node), NativeJson.Default.NodeServiceInfo);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_node_read_block")]
    public static int ReadBlock(nint node, byte* session, long lease, void** address, long* nbytes) => NativeCall.Run(() =>
    {
        var service = HandleTable.Get<NodeService>(node, N);
        var a = NativeCall.Out(address, "address (out)");
        var n = NativeCall.Out(nbytes, "nbytes (out)");
        *a = null;
        *n = 0;
        var (at, size) = NativeCall.Wait(service.ViewAsync(NativeCall.Utf8(session, "session"), lease));
        *a = (void*)at;
        *n = size;
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_node_release_block")]
    public static int ReleaseBlock(nint node, byte* session, long lease) =>
        NativeCall.Run(() => HandleTable.Get<NodeService>(node, N).Release(NativeCall.Utf8(session, "session"), lease));

    [UnmanagedCallersOnly(EntryPoint = "deisa_node_free")]
    public static int Free(nint node) => NativeCall.Run(() =>
    {
        if (node == 0) return;
        NativeCall.Wait(HandleTable.Remove<NodeService>(node, N).DisposeAsync().AsTask());
    });
}
