// Servers and load tests share the machine's two cores: one test class at a time keeps their time bounds honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
