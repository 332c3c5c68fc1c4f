# The calmora dialect end to end (docs/DIALECTS.md, "calmora"): patients and specialists chat
# one to one; a connection registers its user after connecting; a chat notification goes only
# to a recipient who is viewing the chat nowhere.
Feature: Calmora clients work unchanged
  The Calmora app connects, calls registerUser with its user id, joins the chat it shows with
  joinRoom(chatId), and sends messages with sendMessage. The main API server pushes
  notifications through POST /emit-notification.

  Background:
    Given users "ann", "bob" and "eve"

  # Identity

  Scenario: A connection with a token registers its own user
    When "ann" connects to calmora and registers
    Then the acknowledgement is the registration of "ann"
    And "ann" stays connected

  Scenario: With a token, registering another user is an error
    When "ann" connects to calmora
    And "ann" registers as "bob" with an acknowledgement
    Then the acknowledgement is an error
    And "ann" is still connected

  Scenario: Without legacy identity a connection without a token is refused
    When "ann" connects to calmora without a token
    Then "ann" receives an error
    And "ann" is disconnected by the server

  Scenario: With legacy identity a bare registerUser identifies the connection, and nothing is accepted before it
    When "ann" connects to calmora with legacy identity
    And "ann" sends "too early" to "bob" in a new calmora chat
    Then "ann" receives an error
    When "ann" registers as "ann" with an acknowledgement
    Then the acknowledgement is the registration of "ann"
    When "bob" connects to calmora with legacy identity and registers
    And "ann" sends "Hi Bob" to "bob" in the calmora chat
    Then "bob" receives the calmora message "Hi Bob" from "ann" to "bob"

  # Messages

  Scenario: The first message creates the chat; the recipient and the sender's other connections receive it, the sending connection gets the ack
    Given "ann" connects to calmora and registers
    And "ann" also connects to calmora as "ann's phone"
    And "bob" connects to calmora and registers
    When "ann" sends "Hi Bob" to "bob" in a new calmora chat with an acknowledgement
    Then the acknowledgement is the calmora message "Hi Bob" from "ann" to "bob"
    And "bob" receives the calmora message "Hi Bob" from "ann" to "bob"
    And "ann's phone" receives the calmora message "Hi Bob" from "ann" to "bob"
    And "ann" does not receive "receiveMessage"
    When "bob" sends "Hi Ann" to "ann" in the calmora chat
    Then "ann" receives the calmora message "Hi Ann" from "bob" to "ann"

  Scenario: A chat notification goes only to a recipient viewing the chat on none of their connections
    Given "ann" connects to calmora and registers
    And "bob" connects to calmora and registers
    And "bob" also connects to calmora as "bob's tablet"
    When "ann" sends "first" to "bob" in a new calmora chat
    Then "bob" receives a chat notification from "ann"
    And "bob's tablet" receives a chat notification from "ann"
    And "ann" does not receive "new_notification"
    When "bob" joins the calmora chat
    And "ann" sends "while viewing" to "bob" in the calmora chat
    Then "bob's tablet" receives the calmora message "while viewing" from "ann" to "bob"
    And "bob's tablet" does not receive "new_notification"
    When "bob" leaves the calmora chat
    And "ann" sends "after leaving" to "bob" in the calmora chat
    Then "bob's tablet" receives a chat notification from "ann"

  Scenario: A recipient outside a known chat is refused, and so is a stranger
    Given the service provisions a conversation for "ann" and "bob"
    And "ann" connects to calmora and registers
    And "eve" connects to calmora and registers
    When "ann" sends "to the wrong person" to "eve" in the calmora chat with an acknowledgement
    Then the acknowledgement is an error
    When "eve" sends "let me in" to "ann" in the calmora chat with an acknowledgement
    Then the acknowledgement is an error
    When "ann" sends "provisioned" to "bob" in the calmora chat with an acknowledgement
    Then the acknowledgement is the calmora message "provisioned" from "ann" to "bob"

  Scenario: Blank, oversize and malformed messages are refused; the connection stays usable
    Given "ann" connects to calmora and registers
    And "bob" connects to calmora and registers
    When "ann" sends " " to "bob" in a new calmora chat
    Then "ann" receives an error
    When "ann" sends a message of 10001 characters to "bob" in the calmora chat
    Then "ann" receives an error
    When "ann" emits "sendMessage" with the payload:
      """
      "just text"
      """
    Then "ann" receives an error
    And "bob" does not receive "receiveMessage"
    When "ann" sends a message of 10000 characters to "bob" in the calmora chat
    Then "bob" receives a calmora message of 10000 characters
    And "ann" stays connected

  # Notifications from the main API

  Scenario: POST /emit-notification stores the notification and pushes it to a connected user
    Given "ann" connects to calmora and registers
    When the API emits a "appointment" notification "Your session starts soon" to "ann"
    Then the response status is 200
    And the response is a calmora notification "Your session starts soon" for "ann"
    And "ann" receives the calmora notification "Your session starts soon"

  Scenario: POST /emit-notification without the service key or with a bad body
    When the API emits a notification to "ann" without the service key
    Then the response status is 401
    And the response has a message
    When the API emits a notification without a user
    Then the response status is 400
    And the response has a message
