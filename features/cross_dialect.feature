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

  Scenario: A calmora user and a marketplace user receive a linsta user's message in their own shapes
    Given users "lina", "cara" and "mark"
    And the service provisions a conversation for "lina", "cara" and "mark"
    And "lina" connects to linsta
    And "lina" joins the chat room
    And "cara" connects to calmora and registers
    And "mark" is in the marketplace chat
    When "lina" sends "hello all" in the chat room
    Then "cara" receives the calmora message "hello all" from "lina" to "cara"
    And "mark" receives the marketplace message "hello all" from "lina"
    And "lina" receives the linsta message "hello all" from "lina"

  Scenario: A quickclinic doctor's message reaches a calmora patient
    Given a doctor "house" and a patient "cara"
    And a relation between doctor "house" and patient "cara"
    And "cara" connects to calmora and registers
    And "house" connects to quickclinic for the relation
    When "house" sends "how are you feeling?" in the relation
    Then "cara" receives the calmora message "how are you feeling?" from "house" to "cara"

  Scenario: Presence crosses dialects: a marketplace contact hears a linsta user come and go
    Given users "lina" and "mark"
    And the service provisions a conversation for "lina" and "mark"
    And "mark" joins marketplace
    When "lina" connects to linsta
    Then "mark" hears that "lina" is online
    When "lina" disconnects
    Then "mark" hears that "lina" is offline
