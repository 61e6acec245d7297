using RingKv.Cli.Commands;

namespace RingKv.Cli.Tests;

public sealed class SizeTextTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("4096", 4096L)]
    [InlineData("16K", 16L * 1024)]
    [InlineData("64M", 64L * 1024 * 1024)]
    [InlineData("2g", 2L * 1024 * 1024 * 1024)]
    public void ReadsBytesOrANumberWithAUnit(string text, long bytes)
    {
        Assert.True(SizeText.TryParse(text, out var parsed));
        Assert.Equal(bytes, parsed);
        Assert.True(SizeText.TryParse(SizeText.Format(bytes), out var again));
        Assert.Equal(bytes, again);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("64MB")]
    [InlineData("1.5G")]
    [InlineData("99999999999999999999G")]
    public void RefusesAnythingElse(string text) => Assert.False(SizeText.TryParse(text, out _));
}
