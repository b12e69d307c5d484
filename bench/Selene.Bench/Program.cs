using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Selene.Bench -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Selene.Bench.GateBenchmarks).Assembly).Run(args);
