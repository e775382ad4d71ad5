import Foundation
import SurveyCore

/// Which MTA wrote a log, from its first lines: Postfix (a program `postfix…/…`), Exim (a
/// mainlog line `YYYY-MM-DD hh:mm:ss` + message id, or a program `exim`/`exim4`) or
/// OpenSMTPD (a program `smtpd` with `<session> smtp …` messages). The MTA most lines
/// point to wins; nil when no line points to any.
public enum FormatDetector {
    public static func detect(_ lines: [[UInt8]], timeZone: TimeZone = .current) -> PassiveMTA? {
        var votes: [PassiveMTA: Int] = [:]
        var clock = LogClock(reference: Date(), timeZone: timeZone)
        for line in lines {
            let vote: PassiveMTA? = line.withUnsafeBufferPointer { bytes in
                if EximParser.isMainlogLine(bytes) { return .exim }
                guard let prefix = SyslogPrefix.parse(bytes, clock: &clock) else { return nil }
                let program = bytes.text(prefix.program)
                if program.hasPrefix("postfix") { return .postfix }
                if program == "exim" || program == "exim4" { return .exim }
                if program == "smtpd", OpenSMTPDParser.isSessionLine(bytes, at: prefix.message) {
                    return .opensmtpd
                }
                return nil
            }
            if let vote { votes[vote, default: 0] += 1 }
        }
        return votes.max {
            $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue)
        }?.key
    }
}
