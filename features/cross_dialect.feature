# One core, many dialects at once (docs/DIALECTS.md): a conversation is one thing in the core, and
# each participant hears about it in the dialect of the connection it uses.
Feature: Clients of different dialects share conversations

  Scenario: A QuickClinic doctor and a Linsta patient talk in one relation
    Given a doctor "house" and a patient "lina"
    And a relation between doctor "house" and patient "lina"
    And "lina" connects to linsta
    And "lina" joins the chat room
    When "house" connects to quickclinic for the relation
    Then "house" is greeted as "doctor"
    When "lina" sends "hello doctor" in the chat room
    Then "house" receives the quickclinic message "hello doctor" from "lina" as "patient"
    And "lina" receives the linsta message "hello doctor" from "lina"
    When "house" sends "hello lina" in the relation
    Then "lina" receives the linsta message "hello lina" from "house"
    And "lina" does not receive "receive_message"
    When "lina" fetches the chat room messages
    Then the response lists the texts "hello doctor, hello lina"
    When "house" fetches the relation chats
    Then the response lists the texts "hello doctor, hello lina"

  Scenario: A non-party linsta user cannot join someone's relation
    Given a doctor "house" and a patient "pat"
    And a user "mallory"
    And a relation between doctor "house" and patient "pat"
    And "mallory" connects to linsta
    When "mallory" tries to join the chat room
    Then "mallory" receives an error

  Scenario: A conversation provisioned with the service key is a linsta chat room
    Given users "alice" and "bob"
    And the service provisions a conversation for "alice" and "bob"
    And "alice" and "bob" are in the chat room on linsta
    When "alice" sends "provisioned" in the chat room
    Then "bob" receives the linsta message "provisioned" from "alice"

  Scenario: A notification posted on any listener reaches a linsta user
    Given users "alice" and "bob"
    And "alice" connects to linsta
    And "alice" subscribes to notifications
    When the app notifies "alice" through the quickclinic listener of a "COMMENT": "Bob commented"
    Then "alice" receives a "COMMENT" notification "Bob commented"
    When the app notifies "alice" through the linsta listener of a "LIKE": "Bob liked it"
    Then "alice" receives a "LIKE" notification "Bob liked it"
