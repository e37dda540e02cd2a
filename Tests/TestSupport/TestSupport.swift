// Helpers shared by the test targets: running programs (ProcessRun.swift), waiting on conditions
// (Eventually.swift), scratch folders (TemporaryDirectory.swift), a clock that moves only when told
// (ManualClock.swift) and the seeded generator, SplitMix64, re-exported from SeededRandom so a sweep's inputs
// repeat exactly.
@_exported import SeededRandom
