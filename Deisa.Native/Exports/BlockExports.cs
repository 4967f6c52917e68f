using System.Runtime.InteropServices;
using Deisa.Model;
using Deisa.Simulation;

namespace Deisa.Native.Exports;

/// <summary>What a zero-copy block buffer holds (see deisa_block_info in include/deisa.h).</summary>
internal static unsafe class BlockExports
{
    [UnmanagedCallersOnly(EntryPoint = "deisa_block_info")]
    public static int Info(nint block, int* dtype, int* order, int* ndim, long* shape, long capacity) =>
        NativeCall.Run(() =>
        {
            var b = HandleTable.Get<BlockBuffer>(block, "block");
            var n = NativeCall.Out(ndim, "ndim (out)");
            *n = b.Shape.Length;
            if (dtype != null) *dtype = (int)b.DType;
            if (order != null) *order = (int)b.Order;
            if (shape == null) return;
            if (capacity < b.Shape.Length)
                throw new DeisaException(DeisaStatus.Value, $"block of array '{b.Array}' has {b.Shape.Length} dimensions; shape capacity is {capacity}");
            b.Shape.AsSpan().CopyTo(new Span<long>(shape, b.Shape.Length));
        });
}
