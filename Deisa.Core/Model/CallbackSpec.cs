namespace Deisa.Model;

/// <summary>A registered callback, as the head sees it: its inputs and firing rule.</summary>
public sealed record CallbackSpec(int Id, string Name, IReadOnlyList<WindowSpec> Inputs, FiringRule When)
{
    /// <summary>
    /// The rules of a callback's registration, for every door: at least one input, each a valid
    /// window (<see cref="WindowSpec.Validate"/>) of an array given once, and a defined firing
    /// rule. Errors (<see cref="DeisaStatus.Value"/>) name the callback and what is wrong.
    /// </summary>
    public static void Check(string name, IReadOnlyList<WindowSpec?> inputs, FiringRule when)
    {
        if (inputs.Count == 0) throw DeisaException.Value($"callback '{name}' needs at least one input array");
        if (when is not (FiringRule.And or FiringRule.Or)) throw DeisaException.Value($"callback '{name}': when must be AND or OR (got {(int)when})");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var twice = new List<string>();
        for (int i = 0; i < inputs.Count; i++)
        {
            var w = inputs[i] ?? throw DeisaException.Value($"callback '{name}': input {i} is null");
            try { w.Validate(); }
            catch (DeisaException e) { throw new DeisaException(e.Status, $"callback '{name}': {e.Message}"); }
            if (!seen.Add(w.Array) && !twice.Contains(w.Array)) twice.Add(w.Array);
        }
        if (twice.Count > 0)
            throw DeisaException.Value($"callback '{name}' lists arrays [{string.Join(", ", twice.Select(a => $"'{a}'"))}] more than once");
    }
}
