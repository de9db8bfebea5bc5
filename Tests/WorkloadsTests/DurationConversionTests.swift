import Testing

@Suite struct DurationConversionTests {
  @Test func nanosecondsKeepSubSecondPartsAndClampNegatives() {
    #expect(Duration.milliseconds(1500).nanosecondsClamped == 1_500_000_000)
    #expect(Duration.nanoseconds(7).nanosecondsClamped == 7)
    #expect(Duration.zero.nanosecondsClamped == 0)
    #expect(Duration.milliseconds(-1).nanosecondsClamped == 0)
    #expect(Duration.seconds(-3).nanosecondsClamped == 0)
    #expect(Duration.seconds(Int64.max).nanosecondsClamped == UInt64.max)
  }

  @Test func secondsAsDouble() {
    #expect(Duration.milliseconds(2250).secondsDouble == 2.25)
    #expect(Duration.milliseconds(-500).secondsDouble == -0.5)
  }

  @Test func wholeMillisecondsTruncate() {
    #expect(Duration.seconds(3).wholeMilliseconds == 3000)
    #expect(Duration.microseconds(2999).wholeMilliseconds == 2)
    #expect(Duration.milliseconds(250).wholeMilliseconds == 250)
  }
}
