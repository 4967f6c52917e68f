namespace Deisa.Model;

/// <summary>A registered callback, as the head sees it: its inputs and firing rule.</summary>
public sealed record CallbackSpec(int Id, string Name, IReadOnlyList<WindowSpec> Inputs, FiringRule When);
