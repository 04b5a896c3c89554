// The timing tests measure wall-clock latencies to within 5%: they must not share the two cores with each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
