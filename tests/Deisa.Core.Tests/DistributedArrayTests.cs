using System.Numerics.Tensors;
using Deisa.Analytics;
using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// The C# analytics' view types over blocks in native memory: index order of C and Fortran
/// blocks (strided views, no copy), assembly in C order, TensorPrimitives reductions, type
/// errors, and release of the leases.
/// </summary>
public sealed unsafe class DistributedArrayTests : IDisposable
{
    private readonly List<nint> _memory = new();

    public void Dispose()
    {
        foreach (var p in _memory) NativeMemory.Free((void*)p);
    }

    /// <summary>A block whose memory is <paramref name="mem"/>: its segment names it.</summary>
    private BlockView View(long[] position, long[] shape, MemoryOrder order, long lease, void* mem, long nbytes, int rank)
    {
        _memory.Add((nint)mem);
        return new BlockView(position, shape, order, new BlockLocation(lease, $"memory-{_memory.Count - 1}", 0, nbytes), rank);
    }

    /// <summary>Where a test block lies (its segment is the index of its memory).</summary>
    private nint AddressOf(BlockLocation block) => _memory[int.Parse(block.Segment["memory-".Length..])] + (nint)block.Offset;

    /// <summary>Value of global element (i, j) at timestep t.</summary>
    private static double V(long t, long i, long j) => t * 1000 + i * 10 + j;

    /// <summary>
    /// A 5x4 float64 array in a 2x2 grid (rows 3+2, columns 1+3): blocks (0,0) and (1,1) in
    /// Fortran order, the others in C order, each filled in its own memory order.
    /// </summary>
    private ArrayReady Ready(long t = 7, string name = "field", DType dtype = DType.Float64)
    {
        long[][] chunks = [[3, 2], [1, 3]];
        var blocks = new List<BlockView>();
        int rank = 0;
        for (int pi = 0; pi < 2; pi++)
            for (int pj = 0; pj < 2; pj++, rank++)
            {
                long rows = chunks[0][pi], cols = chunks[1][pj];
                long i0 = pi == 0 ? 0 : 3, j0 = pj == 0 ? 0 : 1;
                var order = pi == pj ? MemoryOrder.Fortran : MemoryOrder.C;
                var mem = (double*)NativeMemory.Alloc((nuint)(rows * cols * sizeof(double)));
                for (long i = 0; i < rows; i++)
                    for (long j = 0; j < cols; j++)
                        mem[order == MemoryOrder.C ? i * cols + j : i + j * rows] = V(t, i0 + i, j0 + j);
                blocks.Add(View([pi, pj], [rows, cols], order, 100 + rank, mem, rows * cols * 8, rank));
            }
        blocks.Reverse(); // arrival order is not grid order
        return new ArrayReady(name, t, dtype, [5, 4], chunks, blocks);
    }

    [Fact]
    public void Blocks_are_in_grid_order_with_their_global_offsets_and_ranks()
    {
        var a = new DistributedArray(Ready(), AddressOf);
        Assert.Equal([5L, 4L], a.GlobalShape);
        Assert.Equal(20, a.Length);
        Assert.Equal([[0L, 0L], [0L, 1L], [1L, 0L], [1L, 1L]], a.Blocks.Select(b => b.Position.ToArray()));
        Assert.Equal([[0L, 0L], [0L, 1L], [3L, 0L], [3L, 1L]], a.Blocks.Select(b => b.Offset.ToArray()));
        Assert.Equal([0, 1, 2, 3], a.Blocks.Select(b => b.Rank));
        Assert.Equal([2L, 3L], a.BlockAt(1, 1).Shape);
        var e = Assert.Throws<ArgumentException>(() => a.BlockAt(2, 0));
        Assert.Contains("'field'", e.Message);
        Assert.Contains("(2, 0)", e.Message);
    }

    [Fact]
    public void A_fortran_block_is_a_strided_view_with_the_simulations_index_order()
    {
        var a = new DistributedArray(Ready(), AddressOf);
        var block = a.BlockAt(0, 0); // 3x1, Fortran
        var wide = a.BlockAt(1, 1);  // 2x3, Fortran, not square
        var view = wide.AsTensorSpan<double>();
        Assert.Equal([2, 3], view.Lengths.ToArray());
        Assert.Equal([1, 2], view.Strides.ToArray()); // first index fastest: no transpose, no copy
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(V(7, 3 + i, 1 + j), view[i, j]);
        Assert.Equal(MemoryOrder.Fortran, block.Order);
        // The view reads the shared memory itself.
        fixed (double* first = &block.AsTensorSpan<double>().GetPinnableReference())
            Assert.Equal(_memory[0], (nint)first);

        var c = a.BlockAt(0, 1).AsTensorSpan<double>(); // 3x3, C
        Assert.Equal([3, 1], c.Strides.ToArray());
        Assert.Equal(V(7, 2, 3), c[2, 2]);
    }

    [Fact]
    public void The_whole_array_assembles_in_C_order_and_GetValue_reads_global_indices()
    {
        var a = new DistributedArray(Ready(), AddressOf);
        var all = a.ToArray<double>();
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(V(7, i, j), all[i * 4 + j]);
                Assert.Equal(V(7, i, j), a.GetValue<double>(i, j));
            }
        var tensor = a.ToTensor<double>();
        Assert.Equal([5, 4], tensor.Lengths.ToArray());
        Assert.Equal(V(7, 4, 3), tensor[4, 3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.GetValue<double>(5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.GetValue<double>(1));
        Assert.Throws<ArgumentException>(() => a.CopyTo(new double[19]));
    }

    [Fact]
    public void Reductions_cover_every_block()
    {
        var a = new DistributedArray(Ready(), AddressOf);
        var expected = Enumerable.Range(0, 5).SelectMany(i => Enumerable.Range(0, 4).Select(j => V(7, i, j))).ToArray();
        Assert.Equal(expected.Sum(), a.Sum<double>());
        Assert.Equal(expected.Min(), a.Min<double>());
        Assert.Equal(expected.Max(), a.Max<double>());
        Assert.Equal(expected.Average(), a.Mean<double>(), 10);
    }

    [Fact]
    public void Integer_mean_does_not_overflow_and_min_max_work_on_int32()
    {
        var mem = (int*)NativeMemory.Alloc(4 * sizeof(int));
        int[] values = [int.MaxValue, int.MaxValue, -5, 1];
        for (int k = 0; k < 4; k++) mem[k] = values[k];
        var a = new DistributedArray(new ArrayReady("counts", 0, DType.Int32, [4], [[4]], [View([0], [4], MemoryOrder.C, 1, mem, 16, 0)]), AddressOf);
        Assert.Equal(values.Select(v => (double)v).Average(), a.Mean<int>());
        Assert.Equal(-5, a.Min<int>());
        Assert.Equal(int.MaxValue, a.Max<int>());
    }

    [Fact]
    public void Nan_propagates_through_min_and_max()
    {
        var ready = Ready();
        ((double*)_memory[2])[1] = double.NaN;
        var a = new DistributedArray(ready, AddressOf);
        Assert.True(double.IsNaN(a.Min<double>()));
        Assert.True(double.IsNaN(a.Max<double>()));
    }

    [Fact]
    public void Another_element_type_is_refused_naming_the_array_and_both_types()
    {
        var a = new DistributedArray(Ready(t: 3, name: "temperature"), AddressOf);
        var e = Assert.Throws<DeisaException>(() => a.Sum<float>());
        Assert.Equal(DeisaStatus.Type, e.Status);
        Assert.Contains("'temperature'", e.Message);
        Assert.Contains("timestep 3", e.Message);
        Assert.Contains("float64 (double)", e.Message);
        Assert.Contains("float32 (float)", e.Message);
        var b = Assert.Throws<DeisaException>(() => a.Blocks[0].AsTensorSpan<int>());
        Assert.Contains("int32 (int)", b.Message);
        Assert.Throws<DeisaException>(() => a.ToArray<long>());
        Assert.Throws<DeisaException>(() => a.GetValue<int>(0, 0));
        var unknown = Assert.Throws<DeisaException>(() => a.ToArray<decimal>());
        Assert.Contains("Decimal", unknown.Message);
    }

    [Fact]
    public void Release_gives_every_lease_back_once_and_the_views_then_refuse()
    {
        var a = new DistributedArray(Ready(), AddressOf);
        var released = new List<long>();
        a.Release(released.Add);
        a.Release(released.Add);
        Assert.Equal([100L, 101L, 102L, 103L], released.Order());
        Assert.True(a.IsReleased);
        var e = Assert.Throws<ObjectDisposedException>(() => a.Blocks[0].AsTensorSpan<double>());
        Assert.Contains("'field' at timestep 7 was released", e.Message);
        Assert.Throws<ObjectDisposedException>(() => a.Sum<double>());
        Assert.Throws<ObjectDisposedException>(() => a.ToArray<double>());
        Assert.Contains("(released)", a.ToString());
    }

    [Fact]
    public void Element_strides_of_C_and_Fortran_layouts()
    {
        Assert.Equal([12, 4, 1], ElementStrides.Of([2, 3, 4], MemoryOrder.C));
        Assert.Equal([1, 2, 6], ElementStrides.Of([2, 3, 4], MemoryOrder.Fortran));
        Assert.Equal([0, 1], ElementStrides.Of([1, 3], MemoryOrder.C)); // TensorSpan wants stride 0 for length 1
        Assert.Equal([1, 0], ElementStrides.Of([3, 1], MemoryOrder.Fortran));
        Assert.True(ElementStrides.IsContiguous([2, 3], [3, 1], MemoryOrder.C));
        Assert.False(ElementStrides.IsContiguous([2, 3], [3, 1], MemoryOrder.Fortran));
        Assert.True(ElementStrides.IsContiguous([2, 3], [1, 2], MemoryOrder.Fortran));
        Assert.True(ElementStrides.IsContiguous([1, 3], [99, 1], MemoryOrder.C)); // a length-1 dimension's stride does not matter
        Assert.False(ElementStrides.IsContiguous([2, 3], [5, 1], MemoryOrder.C));  // a slice of wider rows
        Assert.False(ElementStrides.IsContiguous([2, 3], [0, 1], MemoryOrder.C));  // broadcast
    }
}
