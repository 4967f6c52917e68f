using Deisa.Model;

namespace Deisa.Core.Tests;

public class ArrayLayoutTests
{
    private static BlockDeclaration Block(int rank, long[] global, long[] chunk, long[] pos, DType dtype = DType.Undeclared) =>
        new(rank, "a", global, chunk, pos, dtype);

    [Fact]
    public void UnequalBlocksOnRectilinearGridAreAccepted()
    {
        var layout = ArrayLayout.Build("a", [
            Block(0, [100], [34], [0]),
            Block(1, [100], [33], [1]),
            Block(2, [100], [33], [2]),
        ]);
        Assert.Equal([34L, 33, 33], layout.Chunks[0]);
        Assert.Equal(3, layout.BlockCount);
        Assert.Equal(2, layout.BlockAt([2])!.Rank);
    }

    [Fact]
    public void TwoDimensionalGridGivesChunksPerDimension()
    {
        var layout = ArrayLayout.Build("a", [
            Block(0, [5, 4], [3, 1], [0, 0]), Block(1, [5, 4], [3, 3], [0, 1]),
            Block(2, [5, 4], [2, 1], [1, 0]), Block(3, [5, 4], [2, 3], [1, 1]),
        ]);
        Assert.Equal([3L, 2], layout.Chunks[0]);
        Assert.Equal([1L, 3], layout.Chunks[1]);
    }

    [Fact]
    public void SamePositionTwiceIsAnOverlapNamingBothRanks()
    {
        var e = Assert.Throws<DeisaException>(() => ArrayLayout.Build("a", [Block(0, [1, 2], [1, 1], [0, 0]), Block(1, [1, 2], [1, 1], [0, 0])]));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.Contains("ranks 0 and 1", e.Message);
        Assert.Contains("overlap", e.Message);
    }

    [Fact]
    public void MissingBlockIsAHoleNamingThePosition()
    {
        var e = Assert.Throws<DeisaException>(() => ArrayLayout.Build("a", [
            Block(0, [2, 2], [1, 1], [0, 0]), Block(1, [2, 2], [1, 1], [0, 1]), Block(2, [2, 2], [1, 1], [1, 0]),
        ]));
        Assert.Contains("(1, 1)", e.Message);
        Assert.Contains("hole", e.Message);
    }

    [Fact]
    public void GridLineDisagreementNamesRanksAndSizes()
    {
        var e = Assert.Throws<DeisaException>(() => ArrayLayout.Build("a", [
            Block(0, [4, 4], [2, 2], [0, 0]), Block(1, [4, 4], [2, 2], [0, 1]),
            Block(2, [4, 4], [2, 2], [1, 0]), Block(3, [4, 4], [2, 1], [1, 1]),
        ]));
        Assert.Contains("grid line 1 of dimension 1", e.Message);
        Assert.Contains("rank 1 has 2, rank 3 has 1", e.Message);
    }

    [Fact]
    public void BlocksNotCoveringTheGlobalShapeAreRefused()
    {
        var e = Assert.Throws<DeisaException>(() => ArrayLayout.Build("a", [Block(0, [10], [4], [0]), Block(1, [10], [4], [1])]));
        Assert.Contains("cover 8 cells", e.Message);
    }

    [Fact]
    public void GlobalShapeDisagreementIsRefused()
    {
        var e = Assert.Throws<DeisaException>(() => ArrayLayout.Build("a", [Block(0, [4], [2], [0]), Block(1, [5], [2], [1])]));
        Assert.Contains("disagree on global_shape", e.Message);
    }

    [Fact]
    public void DifferentDeclaredDtypesAreATypeError()
    {
        var e = Assert.Throws<DeisaException>(() => ArrayLayout.Build("a", [Block(0, [4], [2], [0], DType.Float64), Block(1, [4], [2], [1], DType.Int32)]));
        Assert.Equal(DeisaStatus.Type, e.Status);
    }

    [Theory]
    [InlineData(new long[] { 0 }, new long[] { 1 }, new long[] { 0 }, "global_shape")]
    [InlineData(new long[] { 4 }, new long[] { 0 }, new long[] { 0 }, "chunk_shape")]
    [InlineData(new long[] { 4 }, new long[] { 2 }, new long[] { -1 }, "must not be negative")]
    [InlineData(new long[] { 4 }, new long[] { 2 }, new long[] { 3 }, "outside the block grid")]
    [InlineData(new long[] { 4, 4 }, new long[] { 2 }, new long[] { 0 }, "same length")]
    [InlineData(new long[] { 4 }, new long[] { 5 }, new long[] { 0 }, "larger than global_shape")]
    public void OneRanksBadDeclarationIsNamed(long[] global, long[] chunk, long[] pos, string expected)
    {
        var e = Assert.Throws<DeisaException>(() => Block(0, global, chunk, pos).Validate());
        Assert.Contains(expected, e.Message);
        Assert.Contains("'a'", e.Message);
    }
}
