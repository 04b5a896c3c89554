using Fse.Runtime.Serving;

namespace Fse.Server.Tests.Engine;

public class StopStringMatcherTests
{
    private static (string Released, string? Matched) Feed(StopStringMatcher m, params string[] pieces)
    {
        var released = string.Concat(pieces.Select(m.Add));
        return (released + m.Flush(), m.Matched);
    }

    [Fact]
    public void TextIsCutBeforeAStopStringThatSpansPieces()
    {
        var m = new StopStringMatcher(["Question:"]);
        Assert.Equal("Answer 4", m.Add("Answer 4"));
        Assert.Equal("\n\n", m.Add("\n\nQues"));    // "Ques" could start the stop string: held back
        Assert.Equal("", m.Add("tion: next"));      // the match: the held text and everything after it are dropped
        Assert.Equal("Question:", m.Matched);
        Assert.Equal("", m.Add("more"));
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void HeldTextThatTurnsOutHarmlessIsReleased()
    {
        var m = new StopStringMatcher(["</s>", "<|im_end|>"]);
        Assert.Equal("a ", m.Add("a <"));
        Assert.Equal("<b", m.Add("b"));
        Assert.Equal("", m.Add("</"));
        Assert.Equal("</", m.Flush());   // the text ended without a match: nothing held back is lost
        Assert.Null(m.Matched);
    }

    [Theory]
    [InlineData(false, "x = 1")]
    [InlineData(true, "x = 1;;")]
    public void TheEarliestStopWinsAndIsIncludedOnlyWhenAsked(bool include, string expected)
    {
        var (text, matched) = Feed(new StopStringMatcher(["\n", ";;"], include), "x = 1;", ";\ny");
        Assert.Equal(expected, text);
        Assert.Equal(";;", matched);
    }

    [Fact]
    public void WithoutStopsEverythingPassesAtOnce()
    {
        var m = new StopStringMatcher([]);
        Assert.Equal("Ques", m.Add("Ques"));
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void AnEmptyStopStringIsRefused() => Assert.Throws<ArgumentException>(() => new StopStringMatcher(["a", ""]));
}
