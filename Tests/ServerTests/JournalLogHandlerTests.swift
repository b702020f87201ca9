import Foundation
import Logging
import Testing

@testable import Server

#if canImport(Glibc)
import Glibc
#endif

@Suite struct JournalLogHandlerTests {
    /// systemd's rule: log natively only when $JOURNAL_STREAM names stderr's device and inode.
    @Test func journalIsUsedOnlyWhenStderrIsTheJournalStream() {
        var info = stat()
        #expect(fstat(2, &info) == 0)
        let matching = "\(info.st_dev):\(info.st_ino)"
        #expect(JournalLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": matching]))
        #expect(!JournalLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino + 1)"]))
        #expect(!JournalLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(!JournalLogHandler.stderrIsJournal(environment: [:]))
    }

    @Test func fieldsAndPriorities() {
        #expect(JournalLogHandler.fieldName("prompt_tokens") == "PROMPT_TOKENS")
        #expect(JournalLogHandler.fieldName("tokens/s é") == "TOKENS_S__")
        #expect(JournalLogHandler.priority(.critical) == 2 && JournalLogHandler.priority(.info) == 6 && JournalLogHandler.priority(.trace) == 7)
        var handler = JournalLogHandler(label: "test")
        handler[metadataKey: "model"] = "m.gguf"
        #expect(handler[metadataKey: "model"] == "m.gguf")
        // Sending without a journal socket must not fail or block.
        handler.log(event: LogEvent(level: .info, message: "hello", metadata: ["a": "1"], source: "t", file: #fileID, function: #function, line: #line))
    }
}
