using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>The dtype is fixed per array and timestep (docs/specification.md §2); a mismatch is a type error (docs/specification.md §3).</summary>
public class DTypeTests
{
    [Fact]
    public async Task RanksSendingDifferentDtypesAtOneTimestepIsATypeError()
    {
        await using var run = Run.Start();
        await run.RegisterStripsAsync(2, "a"); // dtype not declared: the first send decides
        await run.SendAsync(0, "a", 0, DType.Int32);

        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(1, "a", 0, DType.Float64).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Type, e.Status);
        Assert.Contains("'a' at timestep 0", e.Message);
        Assert.Contains("rank 1 sent float64", e.Message);
        Assert.Contains("rank 0 sent int32", e.Message);

        await run.SendAsync(1, "a", 0, DType.Int32); // the right dtype is still accepted
    }

    [Fact]
    public async Task AnUndeclaredDtypeMayChangeBetweenTimesteps()
    {
        await using var run = Run.Start(maxSimulationAhead: 4);
        var cb = await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");

        var analytics = run.ReadToEndAsync();
        await run.SendAllAsync(2, "a", 0);
        await Task.WhenAll(run.SendAsync(0, "a", 1, DType.Float64), run.SendAsync(1, "a", 1, DType.Float64));
        await run.CloseAllAsync(2);
        var events = await analytics;
        Assert.Equal([DType.Int32, DType.Float64], events.OfType<ArrayReady>().Select(a => a.DType));
        Assert.Equal(2, events.Due(cb).Count);
    }

    [Fact]
    public async Task ASendOfAnotherDtypeThanTheDeclaredOneIsATypeError()
    {
        await using var run = Run.Start();
        await run.RegisterAsync(2, r => [Run.Strip(r, 2, "a", DType.Float32)]);

        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 0, DType.Float64).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Type, e.Status);
        Assert.Contains("'a' is declared as float32, rank 0 sent float64", e.Message);
        await run.SendAsync(0, "a", 0, DType.Float32);
    }

    [Fact]
    public async Task AnUnknownDtypeCodeIsATypeError()
    {
        await using var run = Run.Start();
        await run.RegisterStripsAsync(1, "a");
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 0, (DType)99).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Type, e.Status);
        e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 0, DType.Undeclared).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Type, e.Status);
    }

    [Fact]
    public async Task DeclaringDifferentDtypesIsATypeErrorForEveryRank()
    {
        await using var run = Run.Start();
        var ranks = run.StartRegistration(2, r => [Run.Strip(r, 2, "a", r == 0 ? DType.Int32 : DType.Int64)]);
        foreach (var t in ranks)
            Assert.Equal(DeisaStatus.Type, (await Assert.ThrowsAsync<DeisaException>(() => t.WaitAsync(Run.Timeout))).Status);
    }
}
