using Fse.Eval.Sampling;

namespace Fse.Eval.Arithmetic;

/// <summary>A person in a problem: the name and the pronouns that go with it.</summary>
internal sealed record Person(string Name, string He, string Him);

/// <summary>The random choices one problem makes, from CPython's Mersenne Twister so a seed means the same everywhere.</summary>
internal sealed class ProblemDraw(PythonRandom random)
{
    private static readonly Person[] Cast =
    [
        new("Tom", "He", "him"), new("Sam", "He", "him"), new("Ben", "He", "him"), new("Jack", "He", "him"),
        new("Leo", "He", "him"), new("Max", "He", "him"), new("Omar", "He", "him"), new("Ravi", "He", "him"),
        new("Carlos", "He", "him"), new("Ken", "He", "him"), new("Anna", "She", "her"), new("Mia", "She", "her"),
        new("Lily", "She", "her"), new("Emma", "She", "her"), new("Sara", "She", "her"), new("Nina", "She", "her"),
        new("Zoe", "She", "her"), new("Grace", "She", "her"), new("Maya", "She", "her"), new("Rosa", "She", "her"),
    ];

    private static readonly string[] Things =
    [
        "apples", "marbles", "stickers", "pencils", "cookies", "books", "cards", "shells", "balloons",
        "coins", "toys", "flowers", "stamps", "candies", "crayons", "eggs", "beads", "rocks",
    ];

    /// <summary>An integer in [low, high], both included.</summary>
    public int Int(int low, int high) => low + (int)random.RandBelow(high - low + 1);

    /// <summary>An operand of an addition or subtraction: 2 to 99.</summary>
    public int TwoDigit() => Int(2, 99);

    /// <summary>The first factor of a product: 2 to 9.</summary>
    public int Factor() => Int(2, 9);

    /// <summary>The second factor of a product: 2 to 15.</summary>
    public int Multiplicand() => Int(2, 15);

    public string Thing() => Things[(int)random.RandBelow(Things.Length)];

    /// <summary>Distinct people, as many as asked for.</summary>
    public Person[] People(int count)
    {
        var picked = random.SampleIndices(Cast.Length, count);
        return [.. picked.Select(i => Cast[i])];
    }
}
