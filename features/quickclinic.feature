# The quickclinic dialect end to end (docs/DIALECTS.md, "quickclinic"):
# QuickClinic's testing steps (doctor and patient in one relation, real-time messages) plus
# the rules every dialect obeys.
Feature: QuickClinic clients work unchanged
  A chat is a doctor–patient relation. The app creates the relation over REST with either
  party's token, connects with the relation in the handshake, and then loads, sends, reads
  and types in that one conversation.

  Background:
    Given a doctor "house" and a patient "pat"
    And a user "mallory"

  # Relations over REST

  Scenario: Either party opens the relation, and gets the same one
    When "house" opens the relation between doctor "house" and patient "pat"
    Then the relation names doctor "house" and patient "pat"
    When "pat" opens the relation between doctor "house" and patient "pat"
    Then the relation names doctor "house" and patient "pat"
    And every request returned the same relation

  Scenario: Someone outside the pair cannot open their relation
    When "mallory" opens the relation between doctor "house" and patient "pat"
    Then the response status is 403
    And the response has a message

  # Connecting

  Scenario: A party of the relation is greeted on connect
    Given a relation between doctor "house" and patient "pat"
    When "house" connects to quickclinic for the relation
    Then "house" is greeted as "doctor"
    And "house" stays connected
    When "pat" connects to quickclinic for the relation over polling
    Then "pat" is greeted as "patient"
    And "pat" stays connected

  Scenario: The handshake may come in the query
    Given a relation between doctor "house" and patient "pat"
    When "pat" connects to quickclinic for the relation with the handshake in the query
    Then "pat" is greeted as "patient"

  Scenario Outline: A connection that cannot be placed in the relation gets an error, then the server disconnects
    Given a relation between doctor "house" and patient "pat"
    When "<who>" connects to quickclinic <how>
    Then "<who>" receives an error
    And "<who>" is disconnected by the server
    And "<who>" does not receive "connected"

    Examples:
      | who     | how                                  |
      | mallory | for the relation                     |
      | house   | for an unknown relation              |
      | house   | without a relation                   |
      | house   | for the relation without a token     |

  # Chatting

  Scenario: Doctor and patient chat in real time; the room, sender included, gets each message once
    Given a relation between doctor "house" and patient "pat"
    And "house" and "pat" are connected to the relation
    When "house" sends "How are you feeling?" in the relation
    Then "pat" receives the quickclinic message "How are you feeling?" from "house" as "doctor"
    And "house" receives the quickclinic message "How are you feeling?" from "house" as "doctor"
    And "pat" does not receive "new_message"
    And "house" does not receive "new_message"
    When "pat" sends "Better, thanks" in the relation
    Then "house" receives the quickclinic message "Better, thanks" from "pat" as "patient"

  Scenario: The other side sees who is typing; the typist does not
    Given a relation between doctor "house" and patient "pat"
    And "house" and "pat" are connected to the relation
    When "pat" is typing
    Then "house" sees "pat" typing
    And "pat" does not receive "user_typing"

  Scenario: Reading a message sends a read receipt and marks it read
    Given a relation between doctor "house" and patient "pat"
    And "house" and "pat" are connected to the relation
    When "house" sends "Take two a day" in the relation
    Then "pat" receives the quickclinic message "Take two a day" from "house" as "doctor"
    When "pat" marks that message as read
    Then "house" receives a read receipt from "pat"
    When "house" fetches the relation chats
    Then the message "Take two a day" is read

  Scenario: Marking an unknown message as read is an error
    Given a relation between doctor "house" and patient "pat"
    And "house" and "pat" are connected to the relation
    When "pat" marks an unknown message as read
    Then "pat" receives an error
    And "house" does not receive "message_read"

  Scenario: Initial messages come a page at a time from the newest, each page in order
    Given a relation between doctor "house" and patient "pat"
    And "house" posted the messages "m1, m2, m3, m4, m5" to the relation
    And "house" connects to quickclinic for the relation
    When "house" asks for page 1 of the messages with limit 2
    Then "house" receives the initial messages "m4, m5"
    And the pagination is page 1, limit 2, total 5, 3 pages, more: yes
    When "house" asks for page 3 of the messages with limit 2
    Then "house" receives the initial messages "m1"
    And the pagination is page 3, limit 2, total 5, 3 pages, more: no
    When "house" asks for page 1 of the messages with limit 20
    Then "house" receives the initial messages "m1, m2, m3, m4, m5"
    And the pagination is page 1, limit 20, total 5, 1 pages, more: no

  Scenario: Blank and oversize messages are refused; the connection stays usable
    Given a relation between doctor "house" and patient "pat"
    And "house" and "pat" are connected to the relation
    When "house" sends a blank message in the relation
    Then "house" receives an error
    When "house" sends a message of 10001 characters in the relation
    Then "house" receives an error
    When "house" emits "send_message" with the payload:
      """
      { "text": 5 }
      """
    Then "house" receives an error
    And "pat" does not receive "new_message"
    When "house" sends a message of 10000 characters in the relation
    Then "pat" receives a quickclinic message of 10000 characters
    And "house" stays connected

  Scenario: Acknowledgements answer a refused send with an error
    Given a relation between doctor "house" and patient "pat"
    And "house" and "pat" are connected to the relation
    When "house" emits "send_message" with an acknowledgement and the payload:
      """
      { "text": "" }
      """
    Then the acknowledgement is an error
    And "house" receives no error

  # Chats over REST

  Scenario: A message posted over REST is saved and reaches both sides
    Given a relation between doctor "house" and patient "pat"
    And "house" and "pat" are connected to the relation
    When "pat" posts "sent over REST" to the relation chats
    Then the response is the quickclinic message "sent over REST" from "pat" as "patient"
    And "house" receives the quickclinic message "sent over REST" from "pat" as "patient"
    And "pat" receives the quickclinic message "sent over REST" from "pat" as "patient"
    When "house" fetches the relation chats
    Then the response lists the texts "sent over REST"

  Scenario: The chats REST routes refuse outsiders and bad input
    Given a relation between doctor "house" and patient "pat"
    When "mallory" fetches the relation chats
    Then the response status is 403
    When "mallory" posts "hello" to the relation chats
    Then the response status is 403
    When "house" posts "   " to the relation chats
    Then the response status is 400

  # Operations

  Scenario: The health check answers ok
    When someone checks the health of the quickclinic listener
    Then the response status is 200
    And the health check says ok
