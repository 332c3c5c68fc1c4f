# The marketplace dialect end to end (docs/DIALECTS.md, "marketplace"): clients and providers
# chat in rooms, see each other's status, type, read, and receive notifications.
Feature: Marketplace clients work unchanged
  The marketplace app connects, emits user-join with its user id, joins the chats it shows
  with join-chat, and the notification room with join-notifications.

  Background:
    Given a client "carl" and a provider "pia"
    And a user "eve"
    And the service provisions a conversation for "carl" and "pia"

  # Identity and presence

  Scenario: Contacts hear user-status-changed when a user comes online and when their last connection closes; strangers do not
    Given "carl" joins marketplace
    And "eve" joins marketplace
    When "pia" joins marketplace
    Then "carl" hears that "pia" is online
    And "eve" does not receive "user-status-changed"
    When "pia" also joins marketplace as "pia's phone"
    And "pia" disconnects
    Then "carl" does not receive "user-status-changed"
    When "pia's phone" disconnects
    Then "carl" hears that "pia" is offline

  Scenario: With a token, user-join must name the token's user
    When "carl" connects to marketplace
    And "carl" emits "user-join" with an acknowledgement and the payload:
      """
      "66f0000000000000000000ff"
      """
    Then the acknowledgement is an error

  Scenario: Without legacy identity a connection without a token is refused
    When "carl" connects to marketplace without a token
    Then "carl" receives an error
    And "carl" is disconnected by the server

  Scenario: With legacy identity a bare user-join identifies the connection
    When "carl" connects to marketplace with legacy identity
    And "carl" joins the chat
    Then "carl" receives an error
    When "carl" says user-join
    And "pia" joins marketplace with legacy identity
    Then "carl" hears that "pia" is online

  # Chatting

  Scenario: A message reaches the whole room, sender included, and the receiver's every connection
    Given "carl" and "pia" are in the marketplace chat
    And "pia" also joins marketplace as "pia's phone"
    When "carl" sends "Is it still available?" in the marketplace chat
    Then "carl" receives the marketplace message "Is it still available?" from "carl"
    And "pia" receives the marketplace message "Is it still available?" from "carl"
    And "pia's phone" does not receive "new-message"
    And "pia" is notified of the marketplace message "Is it still available?"
    And "pia's phone" is notified of the marketplace message "Is it still available?"
    And "carl" does not receive "message-notification"

  Scenario: Only participants may join a chat or send to it
    Given "eve" joins marketplace
    When "eve" joins the chat
    Then "eve" receives an error
    When "eve" sends "hello?" in the marketplace chat
    Then "eve" receives an error

  Scenario: A blank message without media is refused; media alone is a message
    Given "carl" and "pia" are in the marketplace chat
    When "carl" sends " " in the marketplace chat
    Then "carl" receives an error
    And "pia" does not receive "new-message"
    When "carl" sends a picture without text in the marketplace chat
    Then "pia" receives the marketplace picture from "carl"

  Scenario: A listener for clients and providers refuses other pairs
    Given "carl" joins marketplace on the restricted listener
    And the service provisions a conversation for "carl" and "eve"
    When "carl" sends "hi eve" in the marketplace chat
    Then "carl" receives an error

  Scenario: Typing reaches the others in the room, never the typist
    Given "carl" and "pia" are in the marketplace chat
    When "carl" starts typing
    Then "pia" is told that "carl" is typing
    And "carl" does not receive "user-typing"
    When "carl" stops typing
    Then "pia" is told that "carl" stopped typing

  Scenario: Reading the chat tells the room
    Given "carl" and "pia" are in the marketplace chat
    When "carl" sends "the price?" in the marketplace chat
    And "pia" marks the chat read
    Then "carl" hears that "pia" read the chat

  Scenario: Asking and setting the online status
    Given "carl" joins marketplace
    And "pia" joins marketplace
    When "carl" asks whether "pia" is online
    Then "carl" is told that "pia" is online
    When "pia" sets herself offline
    Then "carl" hears that "pia" is offline

  # Notifications

  Scenario: Pending notifications come once on join-notifications, then live ones; read and count
    When the app notifies "pia" of a "order": "New order"
    And "pia" joins marketplace
    And "pia" joins her notifications
    Then "pia" receives the marketplace notification "New order"
    When "pia" joins her notifications again
    Then "pia" does not receive "new-notification"
    When the app notifies "pia" of a "review": "Five stars"
    Then "pia" receives the marketplace notification "Five stars"
    And "pia" has 2 unread notifications
    When "pia" marks all her notifications read
    Then "pia" has 0 unread notifications
