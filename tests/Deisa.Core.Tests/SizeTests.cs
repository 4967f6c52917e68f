using System.Text.Json;

namespace Deisa.Core.Tests;

/// <summary>
/// The one size parser against the one table of cases (tests/cases/sizes.json), which the
/// Python tests also run (pool_size=, $DEISA_POOL_SIZE, and Dask's parse_bytes): as text, and
/// through $DEISA_POOL_SIZE when no pool size is given.
/// </summary>
[Collection("environment")] // sets $DEISA_POOL_SIZE: no test may read it meanwhile
public class SizeTests
{
    public static TheoryData<string, long?, string[]> Cases()
    {
        var data = new TheoryData<string, long?, string[]>();
        var doc = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("tests/cases/sizes.json")));
        foreach (var c in doc.RootElement.GetProperty("sizes").EnumerateArray())
            data.Add(c.GetProperty("text").GetString()!,
                c.TryGetProperty("bytes", out var b) ? b.GetInt64() : null,
                c.TryGetProperty("error", out var e) ? e.EnumerateArray().Select(x => x.GetString()!).ToArray() : []);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheParserReadsTheTable(string text, long? bytes, string[] error)
    {
        if (bytes is { } expected)
        {
            Assert.Equal(expected, ByteSize.Parse(text, "pool_size"));
            return;
        }
        var e = Assert.Throws<DeisaException>(() => ByteSize.Parse(text, "pool_size"));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.All(error.Append("pool_size"), w => Assert.Contains(w, e.Message));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DeisaPoolSizeIsReadTheSameWay(string text, long? bytes, string[] error)
    {
        var before = Environment.GetEnvironmentVariable("DEISA_POOL_SIZE");
        Environment.SetEnvironmentVariable("DEISA_POOL_SIZE", text);
        try
        {
            if (bytes is { } expected) Assert.Equal(expected, PoolSize.Resolve(null));
            else Assert.All(error.Append("DEISA_POOL_SIZE"), w => Assert.Contains(w, Assert.Throws<DeisaException>(() => PoolSize.Resolve(null)).Message));
        }
        finally { Environment.SetEnvironmentVariable("DEISA_POOL_SIZE", before); }
    }

    [Fact]
    public void AGivenPoolSizeMustBePositive()
    {
        Assert.Equal(4096, PoolSize.Resolve(4096));
        Assert.Contains("pool_size", Assert.Throws<DeisaException>(() => PoolSize.Resolve(0)).Message);
    }
}

/// <summary>Tests that change the process's environment: they run alone, after the others.</summary>
[CollectionDefinition("environment", DisableParallelization = true)]
public class EnvironmentCollection;
