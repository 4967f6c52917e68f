using Deisa.Model;
namespace Deisa.Analytics;

/// <summary>A callback as the analytics host keeps it: the user's function, its inputs and options.</summary>
internal sealed record RegisteredCallback(
    string Name,
    Func<CallbackInputs, Task> Run,
    IReadOnlyList<WindowSpec> Inputs,
    CallbackOptions Options);
