package causality

import "fmt"

// NotifyingNote is a notify firing's note: where it goes, and who decides.
func NotifyingNote(url string) string {
	return "notifying " + url + ", whose answer (an instruction in reply) decides the change"
}

// Notified is a notified event's reason: the delivery of firing to url,
// made on attempt tries, or failed after tries attempts with err.
func Notified(firing, url string, tries int, err error) string {
	if err != nil {
		return fmt.Sprintf("delivery of %s to %s failed after %s: %v", firing, url, attempts(tries), err)
	}
	return fmt.Sprintf("delivered %s to %s on attempt %d", firing, url, tries)
}
