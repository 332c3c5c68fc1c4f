# The linsta dialect end to end (docs/DIALECTS.md, "linsta"): the scenarios follow the
# testing checklist of Linsta's server and the rules every dialect obeys.
Feature: Linsta clients work unchanged
  The Linsta app connects with its JWT in auth.token, opens one-to-one chat rooms over REST,
  chats with join_room, send_message and receive_message, and gets notifications live or,
  when it was offline, as soon as it connects.

  Background:
    Given users "alice", "bob" and "mallory"

  # Socket connection

  Scenario: Connecting with a valid token
    When "alice" connects to linsta
    Then "alice" stays connected

  Scenario: Connecting over long-polling only
    When "alice" connects to linsta over polling
    Then "alice" stays connected

  Scenario Outline: A missing or bad token gets an error, then the server disconnects
    When "alice" connects to linsta <how>
    Then "alice" receives an error
    And "alice" is disconnected by the server

    Examples:
      | how                                     |
      | without a token                         |
      | with a token signed with another secret |
      | with an expired token                   |

  # Chat rooms over REST

  Scenario: Creating a chat room, and getting the same room again
    When "alice" opens a chat room with "bob"
    Then the chat room has participants "alice" and "bob"
    When "alice" opens a chat room with "bob"
    And "bob" opens a chat room with "alice"
    Then every request returned the same chat room

  Scenario: Listing my chat rooms shows each participant's name and email
    Given "alice" has a chat room with "bob"
    When "alice" lists the chat rooms
    Then the list shows the chat room with "alice" and "bob"

  Scenario: REST errors say what went wrong
    Given "alice" has a chat room with "bob"
    When someone opens a chat room with "bob" without a token
    Then the response status is 401
    And the response has a message
    When "alice" opens a chat room without naming the other user
    Then the response status is 400
    And the response has a message
    When "mallory" fetches the chat room messages
    Then the response status is 403
    And the response has a message
    When "alice" fetches the messages of an unknown chat room
    Then the response status is 404
    And the response has a message

  # Joining and sending

  Scenario: Participants join the room and chat; the room, sender included, gets each message once
    Given "alice" has a chat room with "bob"
    And "alice" connects to linsta
    And "bob" connects to linsta
    When "alice" joins the chat room
    And "bob" joins the chat room
    Then "alice" is told that "bob" joined
    And "bob" does not receive "user_joined"
    When "alice" sends "Hey, how are you?" in the chat room
    Then "bob" receives the linsta message "Hey, how are you?" from "alice"
    And "alice" receives the linsta message "Hey, how are you?" from "alice"
    And "bob" does not receive "receive_message"
    And "alice" does not receive "receive_message"

  Scenario: The sender's other connection gets the message too
    Given "alice" has a chat room with "bob"
    And "alice" and "bob" are in the chat room on linsta
    And "alice" also connects to linsta as "alice's laptop"
    And "alice's laptop" joins the chat room
    When "alice" sends "from my phone" in the chat room
    Then "alice's laptop" receives the linsta message "from my phone" from "alice"
    And "bob" receives the linsta message "from my phone" from "alice"

  Scenario: A non-participant can neither join nor send
    Given "alice" has a chat room with "bob"
    And "alice" and "bob" are in the chat room on linsta
    And "mallory" connects to linsta
    When "mallory" tries to join the chat room
    Then "mallory" receives an error
    When "mallory" sends "let me in" in the chat room
    Then "mallory" receives an error
    And "bob" does not receive "receive_message"
    And "bob" does not receive "user_joined"
    When "bob" fetches the chat room messages
    Then the response lists the texts ""

  Scenario: An empty message is refused and nothing is broadcast
    Given "alice" has a chat room with "bob"
    And "alice" and "bob" are in the chat room on linsta
    When "alice" sends a blank message in the chat room
    Then "alice" receives an error
    And "bob" does not receive "receive_message"

  Scenario: Text over 10,000 characters is refused, 10,000 is accepted
    Given "alice" has a chat room with "bob"
    And "alice" and "bob" are in the chat room on linsta
    When "alice" sends a message of 10001 characters in the chat room
    Then "alice" receives an error
    And "bob" does not receive "receive_message"
    When "alice" sends a message of 10000 characters in the chat room
    Then "bob" receives a linsta message of 10000 characters

  Scenario: Acknowledgements carry the saved message, or an error instead of an error event
    Given "alice" has a chat room with "bob"
    And "alice" and "bob" are in the chat room on linsta
    When "alice" sends "acked" in the chat room with an acknowledgement
    Then the acknowledgement is the linsta message "acked" from "alice"
    When "alice" sends a blank message in the chat room with an acknowledgement
    Then the acknowledgement is an error
    And "alice" receives no error

  Scenario: Malformed events get an error and the connection stays usable
    Given "alice" has a chat room with "bob"
    And "alice" and "bob" are in the chat room on linsta
    When "alice" emits "send_message" with the payload:
      """
      "just a string"
      """
    Then "alice" receives an error
    When "alice" emits "send_message" with the payload:
      """
      { "chatRoomId": 42, "text": ["not", "text"] }
      """
    Then "alice" receives an error
    When "alice" emits "join_room" with an acknowledgement and the payload:
      """
      {}
      """
    Then the acknowledgement is an error
    And "alice" receives no error
    When "alice" emits "no_such_event" with the payload:
      """
      { "anything": true }
      """
    And "alice" sends "still here" in the chat room
    Then "bob" receives the linsta message "still here" from "alice"
    And "alice" is still connected

  # Message history

  Scenario: History comes in order, a page at a time with limit and skip
    Given "alice" has a chat room with "bob"
    And "alice" and "bob" are in the chat room on linsta
    And "alice" sent the messages "m1, m2, m3, m4, m5" in the chat room
    When "bob" asks for the chat room history with limit 50 and skip 0
    Then "bob" receives the history "m1, m2, m3, m4, m5"
    When "bob" asks for the chat room history with limit 2 and skip 0
    Then "bob" receives the history "m4, m5"
    When "bob" asks for the chat room history with limit 2 and skip 1
    Then "bob" receives the history "m3, m4"
    When "bob" fetches the chat room messages
    Then the response lists the texts "m1, m2, m3, m4, m5"
    And the response shows "alice" as the sender of "m3"

  Scenario: Messages stay stored after everyone disconnects
    Given "alice" has a chat room with "bob"
    And "alice" and "bob" are in the chat room on linsta
    When "alice" sends "see you later" in the chat room
    Then "bob" receives the linsta message "see you later" from "alice"
    When "alice" disconnects
    And "bob" disconnects
    And "bob" fetches the chat room messages
    Then the response lists the texts "see you later"

  # Notifications

  Scenario: Subscribing to notifications is confirmed
    Given "alice" connects to linsta
    When "alice" subscribes to notifications
    Then "alice" receives "notification_subscribed"

  Scenario: A notification reaches an online user in real time
    Given "alice" connects to linsta
    When "alice" subscribes to notifications
    Then "alice" receives "notification_subscribed"
    When the app notifies "alice" of a "LIKE": "Bob liked your post"
    Then "alice" receives a "LIKE" notification "Bob liked your post"
    And "bob" does not receive "notification"

  Scenario: A notification for an offline user is kept and pushed once when they connect
    When the app notifies "alice" of a "EVENT_RSVP": "Bob is going to your event"
    And "alice" connects to linsta
    Then "alice" receives a "EVENT_RSVP" notification "Bob is going to your event"
    When "alice" disconnects
    And "alice" connects to linsta
    Then "alice" does not receive "notification"

  Scenario: Notification triggers need the service key
    When a notification for "alice" is posted without the service key
    Then the response status is 401
    When a notification for "alice" is posted with "bob"'s token
    Then the response status is 401 or 403
