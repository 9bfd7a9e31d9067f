package apply

// Error is a refusal the user can act on: what is wrong, and a hint. The
// CLI prints it as `wso2sync: error: <Message>` then `hint: <Hint>`.
type Error struct {
	Message string
	Hint    string
}

func (e *Error) Error() string { return e.Message }
