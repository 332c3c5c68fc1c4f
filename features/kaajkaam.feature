# The kaajkaam dialect end to end (docs/DIALECTS.md, "kaajkaam"): a gig marketplace whose
# chat runs over REST (conversations per order, gig or job; messages with files; read marks),
# with Socket.IO for what is live: messages, notifications, typing, presence and calls.
Feature: KAAJ KAAM clients work unchanged
  The app opens conversations and posts messages through /api/chat with x-auth-token, and
  keeps a socket (token or query.userId) for receive_message, new_notification, typing,
  user_online / user_offline and WebRTC call signaling.

  Background:
    Given a buyer "bina" and a seller "sami"
    And a user "eve"

  # REST: conversations and messages

  Scenario: The same pair and order give the same conversation, from either side; another order another one
    When "bina" opens a kaajkaam conversation with "sami" about order "order-1"
    Then the response status is 201
    And the conversation lists "sami" with name, email and avatar
    When "sami" opens a kaajkaam conversation with "bina" about order "order-1"
    Then the response status is 200
    And every request returned the same conversation
    When "bina" opens a kaajkaam conversation with "sami" about order "order-2"
    Then the response status is 201
    And the last conversation is a new one

  Scenario: A REST message reaches the conversation room and the other participant's personal room, with a notification
    Given "bina" has a kaajkaam conversation with "sami"
    And "bina" is in the kaajkaam conversation
    And "sami" connects to kaajkaam
    When "bina" posts "Is the logo ready?" over REST
    Then the response status is 201
    And "bina" receives the kaajkaam message "Is the logo ready?" from "bina"
    And "sami" receives the kaajkaam message "Is the logo ready?" from "bina"
    And "sami" is notified of the kaajkaam message "Is the logo ready?" from "bina"
    And "bina" does not receive "new_notification"

  Scenario: Unread counts, read marks as readBy, and messages_read to the room
    Given "bina" has a kaajkaam conversation with "sami"
    And "bina" is in the kaajkaam conversation
    And "sami" is in the kaajkaam conversation
    When "bina" posts "first" over REST
    And "bina" posts "second" over REST
    Then "sami" has 2 unread kaajkaam messages
    When "sami" marks the kaajkaam conversation read
    Then "bina" hears that "sami" read the kaajkaam conversation
    And "sami" has 0 unread kaajkaam messages
    And every message "bina" lists was read by "sami"

  Scenario: Deleting hides the conversation for one side only, until a new message
    Given "bina" has a kaajkaam conversation with "sami"
    When "bina" deletes the kaajkaam conversation
    Then "bina" lists 0 kaajkaam conversations
    And "sami" lists 1 kaajkaam conversation
    When "sami" posts "still there?" over REST
    Then "bina" lists 1 kaajkaam conversation

  Scenario: A file is stored, linked from the message and served back byte for byte
    Given "bina" has a kaajkaam conversation with "sami"
    And "sami" connects to kaajkaam
    When "bina" uploads the picture "logo.png" with the text "the logo"
    Then the response status is 201
    And the message has the image attachment "logo.png"
    And "sami" receives the kaajkaam message "the logo" from "bina"
    And "sami" downloads the attachment and gets the same bytes as "image/png"

  Scenario: A file over the limit is refused with 413 and nothing is posted
    Given "bina" has a kaajkaam conversation with "sami"
    When "bina" uploads a file one byte over the limit
    Then the response status is 413
    And the response has a message
    And "sami" lists no kaajkaam messages

  Scenario: Strangers, unknown conversations and missing tokens get their statuses
    Given "bina" has a kaajkaam conversation with "sami"
    When "eve" posts "hello?" over REST
    Then the response status is 403
    And the response has a message
    When "bina" reads the messages of an unknown kaajkaam conversation
    Then the response status is 404
    And the response has a message
    When someone lists kaajkaam conversations without a token
    Then the response status is 401
    And the response has a message
    When "bina" posts " " over REST
    Then the response status is 400
    And the response has a message

  # Sockets: identity, presence, typing

  Scenario: Contacts hear user_online and, after the last connection, user_offline; strangers do not
    Given "bina" has a kaajkaam conversation with "sami"
    And "bina" connects to kaajkaam
    And "eve" connects to kaajkaam
    When "sami" connects to kaajkaam with legacy identity
    Then "bina" hears that "sami" is online on kaajkaam
    And "eve" does not receive "user_online"
    When "sami" also connects to kaajkaam as "sami's phone"
    And "sami" disconnects
    Then "bina" does not receive "user_offline"
    When "sami's phone" disconnects
    Then "bina" hears that "sami" is offline on kaajkaam

  Scenario: A bare query.userId needs legacy identity; a bad token is refused
    When "bina" connects to kaajkaam with only a userId
    Then "bina" receives an error
    And "bina" is disconnected by the server
    When "sami" connects to kaajkaam with a bad token
    Then "sami" receives an error
    And "sami" is disconnected by the server

  Scenario: Typing reaches the others in the conversation, never the typist
    Given "bina" has a kaajkaam conversation with "sami"
    And "bina" is in the kaajkaam conversation
    And "sami" is in the kaajkaam conversation
    When "bina" types in the kaajkaam conversation
    Then "sami" is told that "bina" is typing on kaajkaam
    And "bina" does not receive "user_typing"
    When "bina" stops typing in the kaajkaam conversation
    Then "sami" is told that "bina" stopped typing on kaajkaam

  # Calls

  Scenario: A call rings, is answered, relays ICE, ends, and leaves one completed call message
    Given "bina" has a kaajkaam conversation with "sami"
    And "bina" connects to kaajkaam
    And "sami" connects to kaajkaam
    When "bina" calls "sami" by video
    Then "sami" is rung by "bina" with the offer
    When "sami" accepts the call
    Then "bina" hears the call accepted with the answer
    When "bina" sends an ICE candidate to "sami"
    Then "sami" receives the ICE candidate from "bina"
    When "bina" ends the call
    Then "sami" hears the call ended by "bina"
    And the kaajkaam conversation has the call records "completed"

  Scenario: A busy callee is not rung; a rejected call is declined; an unanswered one is missed
    Given a user "rita"
    And "bina" has a kaajkaam conversation with "sami"
    And "bina" connects to kaajkaam
    And "sami" connects to kaajkaam
    And "rita" connects to kaajkaam
    When "bina" calls "sami" by audio
    Then "sami" is rung by "bina" with the offer
    When "rita" calls "sami" by audio about her own conversation
    Then "rita" hears that "sami" is busy
    And "sami" is not rung again
    When "sami" rejects the call
    Then "bina" hears the call rejected by "sami"
    When "bina" calls "sami" by audio
    Then "sami" is rung by "bina" with the offer
    And after the ring timeout both hear the call ended
    And the kaajkaam conversation has the call records "declined, missed"

  Scenario: A disconnect during a call ends it for the peer and records it completed
    Given "bina" has a kaajkaam conversation with "sami"
    And "bina" connects to kaajkaam
    And "sami" connects to kaajkaam
    When "bina" calls "sami" by video
    And "sami" accepts the call
    Then "bina" hears the call accepted with the answer
    When "sami" disconnects
    Then "bina" hears the call ended by "sami"
    And the kaajkaam conversation has the call records "completed"
