using System.Buffers;
using System.Text;
using Deisa.Model;

namespace Deisa.Scheduling;

/// <summary>
/// An order of a task graph's tasks in which every task comes after the tasks it depends on,
/// whatever order the tasks are numbered in; a cycle is an error naming the tasks on it.
/// </summary>
public static class TopologicalOrder
{
    /// <summary>Writes into <paramref name="order"/> (one entry per task) every task after its
    /// dependencies. When the numbering (or its reverse) is already such an order, that is the
    /// order; otherwise one sweep from the side the numbering mostly follows takes every task
    /// whose dependencies came before it, and the rest are taken depth first, so that a graph
    /// numbered nearly in order is read nearly in sequence. Time and memory linear in tasks and
    /// dependencies.</summary>
    /// <param name="graph">The graph.</param>
    /// <param name="order">Receives the task indices in order.</param>
    /// <exception cref="DeisaException">The graph has a cycle (<see cref="DeisaStatus.Value"/>,
    /// naming a task on it and the cycle), or <paramref name="order"/> has the wrong length.</exception>
    public static void Compute(TaskGraph graph, Span<int> order)
    {
        int n = graph.TaskCount;
        if (order.Length != n) throw DeisaException.Value($"the order has {order.Length} entries; the graph has {n} tasks");
        var start = graph.DependencyStart;
        var deps = graph.Dependencies;
        int later = graph.LaterDependencies;
        if (later == 0)
        {
            for (int t = 0; t < n; t++) order[t] = t;
            return;
        }
        if (later == deps.Length)
        {
            for (int t = 0; t < n; t++) order[t] = n - 1 - t;
            return;
        }

        // One sweep from the side the numbering mostly follows writes every task whose
        // dependencies are all written already: in a graph numbered nearly in order, nearly all
        // of them, read in sequence. The others (few, then) are written depth first, from an
        // explicit stack (graphs may be deeper than the thread's stack). State 0: not written,
        // 1: on the stack (its dependencies are being visited), 2: written.
        bool fromTheEnd = later > deps.Length - later;
        var state = ArrayPool<byte>.Shared.Rent(n);
        var pending = ArrayPool<int>.Shared.Rent(n);
        try
        {
            Array.Clear(state, 0, n);
            int count = 0, nPending = 0;
            for (int r = 0; r < n; r++)
            {
                int t = fromTheEnd ? n - 1 - r : r;
                int j = start[t], end = start[t + 1];
                while (j < end && state[deps[j]] == 2) j++;
                if (j == end) { state[t] = 2; order[count++] = t; }
                else pending[nPending++] = t;
            }
            if (nPending > 0) DepthFirst(start, deps, state, pending.AsSpan(0, nPending), order, count);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(state);
            ArrayPool<int>.Shared.Return(pending);
        }
    }

    /// <summary>Writes the <paramref name="roots"/> not written yet, and the tasks they depend on,
    /// depth first into <paramref name="order"/> from <paramref name="count"/> on.</summary>
    private static void DepthFirst(ReadOnlySpan<int> start, ReadOnlySpan<int> deps, byte[] state, ReadOnlySpan<int> roots,
                                   Span<int> order, int count)
    {
        var stackTask = new int[64];
        var stackNext = new int[64];
        foreach (int root in roots)
        {
            if (state[root] != 0) continue;
            int top = 0;
            stackTask[0] = root;
            stackNext[0] = start[root];
            state[root] = 1;
            while (top >= 0)
            {
                int t = stackTask[top];
                int j = stackNext[top], end = start[t + 1];
                bool descended = false;
                while (j < end)
                {
                    int d = deps[j++];
                    byte s = state[d];
                    if (s == 2) continue;
                    if (s == 1) throw Cycle(stackTask, top, d);
                    stackNext[top] = j;
                    if (++top == stackTask.Length)
                    {
                        Array.Resize(ref stackTask, 2 * top);
                        Array.Resize(ref stackNext, 2 * top);
                    }
                    stackTask[top] = d;
                    stackNext[top] = start[d];
                    state[d] = 1;
                    descended = true;
                    break;
                }
                if (descended) continue;
                state[t] = 2;
                order[count++] = t;
                top--;
            }
        }
    }

    /// <summary>The error for a cycle closed by the task on top of the stack depending on
    /// <paramref name="task"/>, which is on the stack below it.</summary>
    private static DeisaException Cycle(int[] stack, int top, int task)
    {
        int from = top;
        while (stack[from] != task) from--;
        var path = new StringBuilder();
        const int Shown = 12;
        int length = top - from + 1;
        for (int k = from; k <= top; k++)
        {
            if (length > Shown && k == from + Shown / 2) { path.Append($" -> ... ({length - Shown} more)"); k = top - Shown / 2 + 1; }
            path.Append(k == from ? "" : " -> ").Append(stack[k]);
        }
        return DeisaException.Value($"the task graph has a cycle through task {task}: {path} -> {task} (each task depends on the next)");
    }
}
