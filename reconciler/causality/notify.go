package causality

import "fmt"

// NotifyingNote is a notify firing's note: where it goes, and who decides.
func NotifyingNote(url string) string {
	return "notifying " + url + ", whose answer (an instruction in reply) decides the change"
}

// NotNotifiedInBacktest is a notify firing's note in a backtest's
// replay, which sends nothing.
func NotNotifiedInBacktest(url string) string {
	return "would notify " + url + "; a backtest sends nothing, so the answer that would decide the change is not replayed"
}

// Notified is a notified event's reason: the delivery of firing to url,
// made on attempt tries, or failed after tries attempts with err.
func Notified(firing, url string, tries int, err error) string {
	if err != nil {
		return fmt.Sprintf("delivery of %s to %s failed after %s: %v", firing, url, attempts(tries), err)
	}
	return fmt.Sprintf("delivered %s to %s on attempt %d", firing, url, tries)
}

// BacktestNotifications says what a backtest's n notify firings mean for
// its changes.
func BacktestNotifications(n int) string {
	firings := "firing"
	if n != 1 {
		firings = "firings"
	}
	return fmt.Sprintf("%d notify trigger %s would have been sent to receivers: a backtest sends none, so the changes their answers would have made are not replayed", n, firings)
}
